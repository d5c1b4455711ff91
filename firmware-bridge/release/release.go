// Package release says which build of Sekisho is running, and sets up its
// process log the way an installer asks for: both programs, the controller
// and a door Pi's firmware-bridge, share it.
package release

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version and Commit are stamped by `make build` and `make pi`
// (-ldflags -X); a plain `go build` falls back to what Go recorded.
var (
	Version = ""
	Commit  = ""
)

// Info is the running build.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
	Arch    string `json:"arch"` // linux/arm64, linux/arm/v7
}

// Running describes this binary.
func Running() Info {
	info := Info{Version: Version, Commit: Commit, Go: runtime.Version(), Arch: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = cmp.Or(info.Commit, s.Value)
			case "vcs.modified":
				if s.Value == "true" && info.Version == "" {
					info.Version = "dev-modified"
				}
			case "GOARM":
				info.Arch += "/v" + s.Value
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = cmp.Or(info.Version, v)
		}
	}
	info.Version = cmp.Or(info.Version, "dev")
	info.Commit = cmp.Or(info.Commit, "unknown")
	return info
}

// String is the line `version` prints.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, i.Commit, i.Go, i.Arch)
}

// Logger makes the process log: format text or json, level debug, info,
// warn or error.
func Logger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
