//! The protobuf wire format, as much as descriptors need: a message is a
//! list of records (tag and value), read without a schema and written back
//! byte for byte. Working at this level keeps what typed descriptor structs
//! lose (custom options are extension fields that `prost_types` drops).

/// A value as the wire carries it. Groups (wire types 3 and 4) do not occur
/// in descriptors and are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(&'a [u8]),
    /// A length-delimited value: a string, bytes, a sub-message or a packed
    /// repeated field.
    Bytes(&'a [u8]),
    Fixed32(&'a [u8]),
}

/// One record of a message.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub number: u32,
    pub value: Value<'a>,
    /// Where a length-delimited value's content starts in the parsed buffer.
    pub content: usize,
}

impl<'a> Record<'a> {
    /// The content of a length-delimited record, else nothing.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The content of a length-delimited record as UTF-8 text.
    pub fn text(&self) -> Option<&'a str> {
        self.bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The value of a varint record.
    pub fn varint(&self) -> Option<u64> {
        match self.value {
            Value::Varint(v) => Some(v),
            _ => None,
        }
    }

    /// The record encoded again, tag included: the same bytes it was read from.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self.value {
            Value::Varint(v) => {
                put_varint(out, u64::from(self.number) << 3);
                put_varint(out, v);
            }
            Value::Fixed64(b) => {
                put_varint(out, (u64::from(self.number) << 3) | 1);
                out.extend_from_slice(b);
            }
            Value::Bytes(b) => put_bytes(out, self.number, b),
            Value::Fixed32(b) => {
                put_varint(out, (u64::from(self.number) << 3) | 5);
                out.extend_from_slice(b);
            }
        }
    }
}

/// A malformed message: where and what.
#[derive(Debug, PartialEq, Eq)]
pub struct WireError {
    pub offset: usize,
    pub what: &'static str,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed protobuf message at byte {}: {}", self.offset, self.what)
    }
}

/// Reads every record of a message, in wire order.
pub fn parse(buf: &[u8]) -> Result<Vec<Record<'_>>, WireError> {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let tag = varint(buf, &mut pos)?;
        let number =
            u32::try_from(tag >> 3).map_err(|_| WireError { offset: start, what: "field number too large" })?;
        if number == 0 {
            return Err(WireError { offset: start, what: "field number 0" });
        }
        let (value, content) = match tag & 7 {
            0 => (Value::Varint(varint(buf, &mut pos)?), pos),
            1 => (Value::Fixed64(take(buf, &mut pos, 8)?), pos),
            2 => {
                let len = varint(buf, &mut pos)?;
                let len = usize::try_from(len).map_err(|_| WireError { offset: pos, what: "length too large" })?;
                let content = pos;
                (Value::Bytes(take(buf, &mut pos, len)?), content)
            }
            5 => (Value::Fixed32(take(buf, &mut pos, 4)?), pos),
            _ => return Err(WireError { offset: start, what: "unsupported wire type (group)" }),
        };
        records.push(Record { number, value, content });
    }
    Ok(records)
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let start = *pos;
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or(WireError { offset: start, what: "truncated varint" })?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError { offset: start, what: "varint longer than 10 bytes" })
}

fn take<'a>(buf: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], WireError> {
    let end =
        pos.checked_add(len).filter(|&e| e <= buf.len()).ok_or(WireError { offset: *pos, what: "truncated value" })?;
    let slice = &buf[*pos..end];
    *pos = end;
    Ok(slice)
}

/// Appends a varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-delimited record.
pub fn put_bytes(out: &mut Vec<u8>, number: u32, content: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, content.len() as u64);
    out.extend_from_slice(content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_wire_type_and_writes_it_back() {
        // 1: varint 150, 2: "hi", 3: fixed64, 4: fixed32, 300: varint 1
        let buf = [
            0x08, 0x96, 0x01, 0x12, 0x02, b'h', b'i', 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 9, 9, 9, 9, 0xe0, 0x12, 0x01,
        ];
        let records = parse(&buf).unwrap();
        let numbers: Vec<u32> = records.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 300]);
        assert_eq!(records[0].varint(), Some(150));
        assert_eq!(records[1].text(), Some("hi"));
        assert_eq!(records[1].content, 5);
        assert_eq!(records[2].value, Value::Fixed64(&[1, 2, 3, 4, 5, 6, 7, 8]));
        let mut out = Vec::new();
        for r in &records {
            r.encode(&mut out);
        }
        assert_eq!(out, buf);
    }

    #[test]
    fn rejects_malformed_input() {
        assert_eq!(parse(&[0x12, 0x05, b'a']).unwrap_err().what, "truncated value");
        assert_eq!(parse(&[0x08]).unwrap_err().what, "truncated varint");
        assert_eq!(parse(&[0x0b]).unwrap_err().what, "unsupported wire type (group)");
        assert_eq!(parse(&[0x00, 0x00]).unwrap_err().what, "field number 0");
    }
}
