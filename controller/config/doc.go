// Package config loads and checks a site's YAML config: its zones, doors,
// readers, cameras, assets, schedules and access levels. Every mistake is
// reported with the file, line and key, and all mistakes are reported at once
// so an installer fixes them in one pass.
package config
