package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// csvScanner splits a CSV stream into records by the RFC 4180 rules that
// encoding/csv applies by default (comma, double-quote escaping, CRLF or
// LF, blank lines skipped; FuzzCSVMatchesEncodingCSV holds it to that), and
// keeps each record's raw bytes. encoding/csv cannot serve here: after a
// quote error it has consumed an unknown stretch of input and hands back no
// raw text, so a malformed record would silently swallow the rows after it.
//
// A malformed record — a quote inside an unquoted field, or a character
// after a closing quote — ends at the end of the physical line where the
// fault is found, and the next record starts after it. A quoted field still
// open at the end of the file leaves no way to tell where records were
// meant to end (a stray quote and a truncated file look the same), so that
// fails the file.
type csvScanner struct {
	br      *bufio.Reader
	maxLine int
	line    int // physical lines consumed

	start  int      // first line of the current record
	raw    []byte   // the record's bytes (only its start once over-long)
	rawLen int      // the record's length in bytes
	over   bool     // past maxLine: raw and fields are no longer kept
	buf    []byte   // field contents, concatenated
	ends   []int    // end of each field in buf
	fields [][]byte // views of buf
	fault  string   // why the record is malformed, or ""
}

// errUnclosedQuote ends a file whose last quoted field never closes.
var errUnclosedQuote = errors.New("quoted field not closed before the end of the file (a stray quote or a truncated file); where the next record starts is unknown")

// Scanner states.
const (
	csvFieldStart = iota
	csvUnquoted
	csvQuoted
	csvQuoteInQuoted // a quote inside a quoted field: an escape or the end
	csvClosedCR      // CR after a closing quote
	csvSkipLine      // after a fault: the record runs to the line's end
)

// next reads the next record. Then either fault is "" and split returns
// its fields, or fault says why it is malformed, or tooLong reports it
// longer than maxLine; raw holds its text in both cases (only the first
// rejectKeep bytes when over-long). It returns io.EOF after the last record.
func (s *csvScanner) next() (tooLong bool, err error) {
	for {
		blank, err := s.record()
		if err != nil {
			return false, err
		}
		if !blank {
			return s.rawLen > s.maxLine, nil
		}
	}
}

// record reads one record; blank reports an empty line.
func (s *csvScanner) record() (blank bool, err error) {
	s.start = s.line + 1
	if s.buf == nil {
		s.buf = make([]byte, 0, 256) // an empty field is "", not absent
	}
	s.raw, s.rawLen, s.over, s.buf, s.ends, s.fault = s.raw[:0], 0, false, s.buf[:0], s.ends[:0], ""
	state := csvFieldStart
	var prev byte
	for {
		chunk, rerr := s.br.ReadSlice('\n')
		if rerr != nil && rerr != bufio.ErrBufferFull && rerr != io.EOF {
			return false, rerr
		}
		if len(chunk) == 0 { // the end of the file
			switch {
			case s.rawLen == 0:
				return false, io.EOF
			case state == csvQuoted:
				return false, fmt.Errorf("line %d: %w", s.start, errUnclosedQuote)
			case state == csvUnquoted && prev == '\r' && !s.over:
				s.buf = s.buf[:len(s.buf)-1] // encoding/csv drops a CR before the end of the file
			}
			if state != csvSkipLine {
				s.endField()
			}
			return s.blank(), nil
		}
		s.keep(chunk)
		for _, c := range chunk {
			switch state {
			case csvFieldStart:
				if c == '"' {
					state = csvQuoted
					break
				}
				state = csvUnquoted
				fallthrough
			case csvUnquoted:
				switch c {
				case ',':
					s.endField()
					state = csvFieldStart
				case '\n':
					if prev == '\r' && !s.over {
						s.buf = s.buf[:len(s.buf)-1]
					}
					s.endField()
					s.endLine()
					return s.blank(), nil
				case '"':
					s.fault = `bare " in non-quoted field`
					state = csvSkipLine
				default:
					s.add(c)
				}
			case csvQuoted:
				switch c {
				case '"':
					state = csvQuoteInQuoted
				case '\n':
					s.line++
					if prev == '\r' && !s.over {
						s.buf[len(s.buf)-1] = '\n' // CRLF in a field reads as LF
						break
					}
					s.add(c)
				default:
					s.add(c)
				}
			case csvQuoteInQuoted:
				switch c {
				case '"':
					s.add(c)
					state = csvQuoted
				case ',':
					s.endField()
					state = csvFieldStart
				case '\n':
					s.endField()
					s.endLine()
					return false, nil
				case '\r':
					state = csvClosedCR
				default:
					s.fault = `extraneous or missing " in quoted-field`
					state = csvSkipLine
				}
			case csvClosedCR:
				if c == '\n' {
					s.endField()
					s.endLine()
					return false, nil
				}
				s.fault = `extraneous or missing " in quoted-field`
				state = csvSkipLine
			case csvSkipLine:
				if c == '\n' {
					s.endLine()
					return false, nil
				}
			}
			prev = c
		}
	}
}

// keep adds a chunk of the record to raw while the record is within
// maxLine (plus its newline); past it, only raw's start is kept.
func (s *csvScanner) keep(chunk []byte) {
	s.rawLen += len(chunk)
	if s.over {
		return
	}
	if s.rawLen <= s.maxLine+1 {
		s.raw = append(s.raw, chunk...)
		return
	}
	s.over = true
	s.raw = append(s.raw, chunk[:min(len(chunk), max(0, rejectKeep-len(s.raw)))]...)
	s.raw = s.raw[:min(len(s.raw), rejectKeep)]
	s.buf = s.buf[:0]
}

// endLine ends a record at a newline, which is not part of it.
func (s *csvScanner) endLine() {
	s.line++
	s.rawLen--
	if !s.over {
		s.raw = s.raw[:len(s.raw)-1]
		if s.rawLen > s.maxLine {
			s.raw = s.raw[:min(len(s.raw), rejectKeep)]
		}
	}
}

func (s *csvScanner) add(c byte) {
	if !s.over {
		s.buf = append(s.buf, c)
	}
}

func (s *csvScanner) endField() { s.ends = append(s.ends, len(s.buf)) }

// blank reports a record that is an empty line, which encoding/csv skips.
func (s *csvScanner) blank() bool {
	return s.fault == "" && len(s.ends) == 1 && s.ends[0] == 0 && (s.rawLen == 0 || s.rawLen == 1 && s.raw[0] == '\r')
}

// split returns the record's fields as views of its buffer.
func (s *csvScanner) split() [][]byte {
	s.fields = s.fields[:0]
	from := 0
	for _, e := range s.ends {
		s.fields = append(s.fields, s.buf[from:e:e])
		from = e
	}
	return s.fields
}
