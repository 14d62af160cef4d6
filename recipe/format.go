package recipe

import "fmt"

// Format returns a new instance of the output format registered under name,
// for runners other than [Run] (such as sift's Beam module). The error
// names the known formats.
func Format(name string) (OutputFormat, error) {
	fmtMu.RLock()
	mk, ok := formats[name]
	fmtMu.RUnlock()
	if !ok {
		return OutputFormat{}, fmt.Errorf("output_format: unknown format %q (known: %s)", name, formatNames())
	}
	return mk(), nil
}
