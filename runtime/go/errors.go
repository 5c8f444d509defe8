// The one error convention of the bridge: every error result crosses as an
// AppError message in field 1 of the response, with every field kept. A plain
// Go error crosses with its message only (no id), and comes back as a plain
// error with the same text. gRPC status codes only report transport failures.

package bridge

import (
	"errors"

	"github.com/mattermost/mattermost/server/public/model"

	"mmbindgen.dev/generated/go/pluginpb"
)

// AppErrorToProto converts an AppError, parameters included. model.AppError
// keeps its parameters unexported: they are read through SystemMessage,
// which hands them to the translate function without changing the error.
func (c *Converter) AppErrorToProto(e *model.AppError) *pluginpb.AppError {
	if e == nil {
		return nil
	}
	var params map[string]any
	e.SystemMessage(func(_ string, args ...any) string {
		if len(args) > 0 {
			params, _ = args[0].(map[string]any)
		}
		return ""
	})
	return &pluginpb.AppError{
		Id:            e.Id,
		Message:       e.Message,
		DetailedError: e.DetailedError,
		RequestId:     e.RequestId,
		StatusCode:    int64(e.StatusCode),
		Where:         e.Where,
		Params:        c.mapToStruct(params),
	}
}

// AppErrorFromProto rebuilds an AppError, parameters included.
func (c *Converter) AppErrorFromProto(p *pluginpb.AppError) *model.AppError {
	if p == nil {
		return nil
	}
	e := model.NewAppError(p.Where, p.Id, structToMap(p.Params), p.DetailedError, int(p.StatusCode))
	e.Message = p.Message
	e.RequestId = p.RequestId
	return e
}

// ErrorToProto converts a plain error result. An *model.AppError inside it
// keeps all its fields; any other error keeps its message, with no id.
func (c *Converter) ErrorToProto(err error) *pluginpb.AppError {
	if err == nil {
		return nil
	}
	var appErr *model.AppError
	if errors.As(err, &appErr) {
		// A nil *model.AppError inside a non-nil error is a common slip in
		// Go code that means "no error"; its Error method would panic.
		return c.AppErrorToProto(appErr)
	}
	return &pluginpb.AppError{Message: err.Error()}
}

// ErrorFromProto is the inverse of ErrorToProto: no id means a plain error.
func (c *Converter) ErrorFromProto(p *pluginpb.AppError) error {
	if p == nil {
		return nil
	}
	if p.Id == "" {
		return errors.New(p.Message)
	}
	return c.AppErrorFromProto(p)
}
