package chdb

import (
	"reflect"
	"strings"
	"testing"
)

func TestRowsRoundTrip(t *testing.T) {
	var b strings.Builder
	appendRow(&b, []any{uint64(7), int8(-1), "tab\there\nnew line \\ back"})
	appendRow(&b, []any{uint8(10), ""})
	want := [][]string{{"7", "-1", "tab\there\nnew line \\ back"}, {"10", ""}}
	if got := parseRows(b.String()); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip of %q:\n got  %q\n want %q", b.String(), got, want)
	}
	if got := parseRows(""); got != nil {
		t.Fatalf("an empty result has rows: %q", got)
	}
}

func TestInts(t *testing.T) {
	got, err := ints("1", "18446744073709551", "-1")
	if err != nil || !reflect.DeepEqual(got, []int64{1, 18446744073709551, -1}) {
		t.Fatalf("ints = %v, %v", got, err)
	}
	if _, err := ints("1", "x"); err == nil {
		t.Fatal("a non-number parsed")
	}
}
