package partition

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// errorCases are inputs Split must reject, and where. They also seed
// FuzzSplit.
var errorCases = []struct {
	name    string
	csv     string
	columns []string
	want    error
	line    int
	column  string
	msg     string // substring of Error()
}{
	{"bare quote", "id,v\na,1\nb,1\"2\n", nil, ErrMalformed, 3, "", `bare "`},
	{"open quote", "id,v\na,1\nb,\"1\n\nc,2\n", nil, ErrMalformed, 3, "", `extraneous or missing "`},
	{"too few fields", "id,v,w\na,1,2\nb,1\n", nil, ErrMalformed, 3, "", "record has 2 fields, header has 3"},
	{"too many fields", "id,v\na,1\n\"b\nb\",1\nc,1,2\n", nil, ErrMalformed, 5, "", "record has 3 fields"},
	{"text", "id,TotalCharges\na,1\nb,abc\n", []string{"TotalCharges"}, ErrNotNumeric, 3, "TotalCharges",
		`:3: column "TotalCharges": partition: value is not a number: "abc"`},
	{"nan", "id,v\na,NaN\n", []string{"v"}, ErrNotNumeric, 2, "v", `"NaN"`},
	{"inf", "id,v\na,1\nb,-Inf\n", []string{"v"}, ErrNotNumeric, 3, "v", `"-Inf"`},
	{"overflow", "id,v\na,1e400\n", []string{"v"}, ErrNotNumeric, 2, "v", `"1e400"`},
	{"hex", "id,v\na,0x1p3\n", []string{"v"}, ErrNotNumeric, 2, "v", `"0x1p3"`},
	{"no key column", "cust,v\na,1\n", nil, ErrNoKeyColumn, 1, "id", `:1: column "id": partition: key column not in header`},
	{"no column", "id,v\na,1\n", []string{"v", "w"}, ErrNoColumn, 1, "w", `column "w"`},
	{"duplicate key", "id,v\nX,1\nY,2\nZ,3\nW,4\nX,5\n", nil, ErrDuplicateKey, 6, "id",
		`:6: column "id": partition: duplicate key "X" also on line 2`},
	{"empty file", "", nil, ErrEmpty, 1, "", "no header row"},
	{"header only", "id,v\n", nil, ErrEmpty, 1, "", "no data rows"},
	{"missing key", "id,v\na,1\n,2\n", nil, ErrMissingKey, 3, "id", "key is empty"},
	{"blank key", "id,v\na,1\n  ,2\n", nil, ErrMissingKey, 3, "id", "key is empty"},
	{"duplicate column", "id,v,w,v\na,1,2,3\n", nil, ErrDuplicateColumn, 1, "v", `column "v": partition: duplicate column`},
	{"key not utf8", "id,v\n\xff,1\n", nil, ErrMalformed, 2, "id", "not valid UTF-8"},
	// Errors are reported in file order even when sniffing buffers rows.
	{"first error wins", "id,v\na,1\n,2\nb,\"x\n", nil, ErrMissingKey, 3, "id", ""},
}

func TestSplitErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res, err := split(t, "data.csv", tc.csv, Options{Key: "id", Columns: tc.columns, Shards: 4, TempDir: dir})
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			var ie *InputError
			if !errors.As(err, &ie) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v (%T), want an *InputError wrapping %v", err, err, tc.want)
			}
			if filepath.Base(ie.File) != "data.csv" || ie.Line != tc.line || ie.Column != tc.column {
				t.Errorf("at %s:%d column %q, want data.csv:%d column %q", ie.File, ie.Line, ie.Column, tc.line, tc.column)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message %q lacks %q", err, tc.msg)
			}
			assertEmptyDir(t, dir)
		})
	}
}

func TestInputErrorFormat(t *testing.T) {
	e := &InputError{File: "telco.csv", Line: 17, Column: "TotalCharges", Err: ErrNotNumeric}
	if got, want := e.Error(), `telco.csv:17: column "TotalCharges": partition: value is not a number`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &InputError{File: "t.csv", Line: 3, Err: ErrMalformed}
	if got, want := e.Error(), "t.csv:3: partition: malformed CSV"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(e, ErrMalformed) {
		t.Error("InputError does not unwrap")
	}
}

func TestSplitMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := Split(context.Background(), filepath.Join(dir, "nope.csv"), Options{Key: "id", TempDir: dir})
	if err == nil || !strings.Contains(err.Error(), "nope.csv") {
		t.Errorf("err = %v, want one naming the file", err)
	}
	assertEmptyDir(t, dir)
}
