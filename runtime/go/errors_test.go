package bridge

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

func TestErrorConvention(t *testing.T) {
	var c Converter

	plain := errors.New("disk full")
	back := c.ErrorFromProto(c.ErrorToProto(plain))
	var appErr *model.AppError
	if back == nil || back.Error() != "disk full" || errors.As(back, &appErr) {
		t.Fatalf("a plain error must come back plain with its message, got %#v", back)
	}

	full := model.NewAppError("Where.Func", "app.some.error", map[string]any{"Name": "x"}, "detail", 418)
	full.Message = "a message"
	full.RequestId = "req"
	wrapped := fmt.Errorf("context: %w", full)
	back = c.ErrorFromProto(c.ErrorToProto(wrapped))
	if !errors.As(back, &appErr) {
		t.Fatalf("an AppError inside an error must come back as an AppError, got %#v", back)
	}
	if appErr.Id != full.Id || appErr.Message != full.Message || appErr.DetailedError != full.DetailedError ||
		appErr.RequestId != full.RequestId || appErr.StatusCode != full.StatusCode || appErr.Where != full.Where {
		t.Fatalf("fields changed: %#v", appErr)
	}
	var params map[string]any
	appErr.SystemMessage(func(_ string, args ...any) string {
		params, _ = args[0].(map[string]any)
		return ""
	})
	if params["Name"] != "x" {
		t.Fatalf("params lost: %v", params)
	}

	var typedNil *model.AppError
	var asError error = typedNil
	if p := c.ErrorToProto(asError); p != nil {
		t.Fatalf("a nil *model.AppError in an error means no error, got %v", p)
	}
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
}
