package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// scanAll splits data with a csvScanner whose bufio buffer is as small as
// bufio allows, so records cross chunk boundaries.
func scanAll(data []byte, maxLine int) (records [][]string, faults int, err error) {
	s := csvScanner{br: bufio.NewReaderSize(bytes.NewReader(data), 16), maxLine: maxLine}
	for {
		tooLong, err := s.next()
		if err == io.EOF {
			return records, faults, nil
		}
		if err != nil {
			return records, faults, err
		}
		if tooLong || s.fault != "" {
			faults++
			continue
		}
		var rec []string
		for _, f := range s.split() {
			rec = append(rec, string(f))
		}
		records = append(records, rec)
	}
}

var csvSeeds = []string{
	"id,text\n1,one\n2,\"oops\n3,three\n4,four\n",
	"a,b\r\n\"x\r\ny\",\"\"\"q\"\"\"\r\n\r\n,\n",
	"1,a\"b\n2,\"say \"hi\" now\"\n3,\"c\"\r",
	"\"\"\n\"a\"\"b\",\"\r\"\r\n\n\nlast",
	"x\r\r\n\"\r\r\n\"\n",
}

func TestCSVScannerMatchesEncodingCSV(t *testing.T) {
	for _, s := range csvSeeds {
		checkCSVScanner(t, []byte(s))
	}
}

func FuzzCSVMatchesEncodingCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkCSVScanner(t, data) })
}

// checkCSVScanner holds the scanner to encoding/csv on input it reads
// without error, and on other input to rejecting or failing, never to
// reading more records than there are lines.
func checkCSVScanner(t *testing.T, data []byte) {
	got, faults, err := scanAll(data, 1<<20)
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	want, werr := cr.ReadAll()
	if werr == nil {
		if err != nil || faults != 0 {
			t.Fatalf("%q: scanner err %v, %d faults; encoding/csv reads it", data, err, faults)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d records, encoding/csv %d", data, len(got), len(want))
		}
		for i := range got {
			if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
				t.Fatalf("%q: record %d = %q, encoding/csv %q", data, i, got[i], want[i])
			}
		}
		return
	}
	if err != nil && !errors.Is(err, errUnclosedQuote) {
		t.Fatalf("%q: %v", data, err)
	}
	if err == nil && faults == 0 {
		t.Fatalf("%q: no fault found; encoding/csv says %v", data, werr)
	}
	if n := bytes.Count(data, []byte("\n")) + 1; len(got)+faults > n {
		t.Fatalf("%q: %d records from %d lines", data, len(got)+faults, n)
	}
}
