// Reading the facts the proto options restate from Go doc comments:
// `Minimum server version: X`, `@tag X`, the EXPERIMENTAL marker and a
// `Deprecated:` paragraph.

package parity

import (
	"regexp"
	"strings"
)

// DocFacts are the doc-comment facts of one interface method.
type DocFacts struct {
	// MinServerVersion is X of the first `Minimum server version: X` line;
	// empty when there is none.
	MinServerVersion string
	// Tags are the values of the `@tag X` lines, in order.
	Tags []string
	// Experimental is set when the doc contains the EXPERIMENTAL marker.
	Experimental bool
	// Deprecated is the text of the `Deprecated:` paragraph, if any.
	Deprecated string
}

var (
	minVersionLine = regexp.MustCompile(`(?m)^\s*Minimum server version:\s*(\S+?)\.?\s*$`)
	tagLine        = regexp.MustCompile(`(?m)^\s*@tag\s+(\S+)\s*$`)
)

// ParseDoc reads the facts from a doc comment's text (as returned by
// ast.CommentGroup.Text: markers removed, paragraphs separated by blank
// lines).
func ParseDoc(text string) DocFacts {
	var f DocFacts
	if m := minVersionLine.FindStringSubmatch(text); m != nil {
		f.MinServerVersion = m[1]
	}
	for _, m := range tagLine.FindAllStringSubmatch(text, -1) {
		f.Tags = append(f.Tags, m[1])
	}
	f.Experimental = strings.Contains(text, "EXPERIMENTAL")
	for para := range strings.SplitSeq(text, "\n\n") {
		para = strings.TrimSpace(para)
		if rest, ok := strings.CutPrefix(para, "Deprecated:"); ok {
			f.Deprecated = strings.Join(strings.Fields(rest), " ")
			if f.Deprecated == "" {
				f.Deprecated = "Deprecated:"
			}
			break
		}
	}
	return f
}
