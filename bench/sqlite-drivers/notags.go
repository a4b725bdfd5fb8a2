//go:build !modernc && !mattn && !ncruces

package main

// Build with exactly one of -tags modernc, -tags mattn or -tags ncruces (see run.sh).
var _ = build_with_tags_modernc_mattn_or_ncruces
