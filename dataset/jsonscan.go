package dataset

// A validating JSON scanner for record lines. It accepts exactly what
// encoding/json.Valid accepts (checked by FuzzValidJSON) at several times
// its speed, and reports the extents of a top-level object's members on the
// way, so a line is read once.

const maxDepth = 10000 // encoding/json's nesting limit

type jsonScanner struct {
	b     []byte
	i     int
	depth int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i (after white space).
func (s *jsonScanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		return s.object(nil)
	case c == '[':
		return s.array()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return false
}

func (s *jsonScanner) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

func (s *jsonScanner) str() bool {
	s.i++ // opening quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if len(s.b)-s.i < 6 {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

func (s *jsonScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

func (s *jsonScanner) number() bool {
	if s.b[s.i] == '-' {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if !s.digits() {
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// open enters a container at s.i and reports whether it is empty (closed
// at once by end).
func (s *jsonScanner) open(end byte) (ok, empty bool) {
	s.depth++
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		s.depth--
		return s.depth < maxDepth, true
	}
	return s.depth <= maxDepth, false
}

// next consumes the separator after an element: more reports a ',', and
// done the container's end.
func (s *jsonScanner) next(end byte) (more, done bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		s.ws()
		return true, false
	case end:
		s.i++
		s.depth--
		return false, true
	}
	return false, false
}

// object scans an object; member, if not nil, gets each member's key and
// value literals.
func (s *jsonScanner) object(member func(key, val []byte) bool) bool {
	ok, empty := s.open('}')
	if !ok || empty {
		return ok
	}
	for {
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		k := s.i
		if !s.str() {
			return false
		}
		key := s.b[k:s.i]
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		v := s.i
		if !s.value() || member != nil && !member(key, s.b[v:s.i]) {
			return false
		}
		if more, done := s.next('}'); !more {
			return done
		}
	}
}

func (s *jsonScanner) array() bool {
	ok, empty := s.open(']')
	if !ok || empty {
		return ok
	}
	for {
		if !s.value() {
			return false
		}
		if more, done := s.next(']'); !more {
			return done
		}
	}
}

// validJSON reports whether b is one valid JSON value.
func validJSON(b []byte) bool {
	s := jsonScanner{b: b}
	s.ws()
	if !s.value() {
		return false
	}
	s.ws()
	return s.i == len(b)
}
