// Package dashboard holds the web UI that guards, the visitor desk and
// managers use. Its files are embedded in the controller binary: the
// dashboard works on a site with no internet, and loads nothing from a CDN.
package dashboard

import "embed"

// Files are the pages, script and styles, under static/.
//
//go:embed static
var Files embed.FS
