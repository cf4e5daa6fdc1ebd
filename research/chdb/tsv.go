package chdb

import (
	"fmt"
	"strconv"
	"strings"
)

// chDB takes a query as one string and returns its result as bytes, so
// rows travel as TabSeparated text: inserts carry their rows inline after
// FORMAT TabSeparated, and reads are split back into fields here.

var escaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`)

// appendRow writes vals as one TabSeparated line.
func appendRow(b *strings.Builder, vals []any) {
	for i, v := range vals {
		if i > 0 {
			b.WriteByte('\t')
		}
		switch x := v.(type) {
		case string:
			_, _ = escaper.WriteString(b, x) // a strings.Builder does not fail
		default:
			fmt.Fprint(b, x)
		}
	}
	b.WriteByte('\n')
}

var unescaper = strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n")

// parseRows splits a TabSeparated result into rows of unescaped fields.
func parseRows(out string) [][]string {
	var rows [][]string
	for line := range strings.Lines(out) {
		fields := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		for i, f := range fields {
			fields[i] = unescaper.Replace(f)
		}
		rows = append(rows, fields)
	}
	return rows
}

// ints parses fields as signed integers (ClickHouse prints UInt64 and Int8 alike).
func ints(fields ...string) ([]int64, error) {
	out := make([]int64, len(fields))
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", i, err)
		}
		out[i] = n
	}
	return out, nil
}
