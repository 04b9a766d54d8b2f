package sopsfile

import "strings"

// FormatFor returns the format sops uses for a path: by extension exactly as
// sops picks its store (.yaml and .yml are YAML, .json JSON, .env dotenv, .ini
// INI, anything else the binary JSON wrapper). Like sops, the comparison is
// case-sensitive.
func FormatFor(path string) Format {
	switch {
	case strings.HasSuffix(path, ".yaml"), strings.HasSuffix(path, ".yml"):
		return FormatYAML
	case strings.HasSuffix(path, ".json"):
		return FormatJSON
	case strings.HasSuffix(path, ".env"):
		return FormatDotenv
	case strings.HasSuffix(path, ".ini"):
		return FormatINI
	}
	return FormatBinary
}

// String returns the name sops uses for the format's store ("yaml", "json",
// "dotenv", "ini", "binary").
func (f Format) String() string {
	switch f {
	case FormatYAML:
		return "yaml"
	case FormatJSON:
		return "json"
	case FormatDotenv:
		return "dotenv"
	case FormatINI:
		return "ini"
	case FormatBinary:
		return "binary"
	}
	return "unknown"
}
