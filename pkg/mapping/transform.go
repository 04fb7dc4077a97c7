package mapping

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The transforms a rule may list.
const (
	tTrim      = "trim"       // trim and fold inner runs of white space to one space
	tLower     = "lower"      // lower case
	tUpper     = "upper"      // upper case
	tTitle     = "title"      // capitalise each word that is all lower case, but name particles
	tFirstName = "first_name" // the first name(s) of a full name
	tLastName  = "last_name"  // the last name of a full name, with its particles
	tDate      = "date"       // a date in a common format to yyyy-mm-dd
	tPhone     = "phone"      // a phone number to E.164
	tNumber    = "number"     // a number with any grouping to plain decimal
	tOptions   = "options"    // the rule's option table
	tJoin      = "join"       // a multi-choice answer to one text, with the rule's separator
)

// Transforms lists every transform, for the editor.
var Transforms = []string{tTrim, tLower, tUpper, tTitle, tFirstName, tLastName, tDate, tPhone, tNumber, tOptions, tJoin}

// particles are the lower-case words that belong to a last name.
var particles = map[string]bool{
	"van": true, "von": true, "der": true, "den": true, "dem": true, "de": true, "da": true, "di": true,
	"du": true, "del": true, "della": true, "des": true, "le": true, "la": true, "ter": true, "ten": true,
	"zu": true, "zum": true, "zur": true, "dos": true, "das": true, "do": true, "y": true, "bin": true,
	"ibn": true, "al": true, "el": true, "af": true, "av": true, "op": true, "het": true, "'t": true,
}

// squish trims s and folds every inner run of white space to one space.
func squish(s string) string {
	s = strings.TrimSpace(s)
	fold := false
	prevSpace := false
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			fold = true
			break
		}
		prevSpace = sp
	}
	if !fold {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// title capitalises the first letter of each word that is all lower case,
// leaving name particles (after the first word) and mixed-case words
// ("McDonald") as they are. Hyphenated parts are words of their own.
func title(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	word := 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '-' {
			j++
		}
		w := s[i:j]
		if w != "" && isLower(w) && !(word > 0 && particles[w]) {
			r, n := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToTitle(r))
			b.WriteString(w[n:])
		} else {
			b.WriteString(w)
		}
		if w != "" {
			word++
		}
		if j < len(s) {
			b.WriteByte(s[j])
		}
		i = j + 1
	}
	return b.String()
}

// familyFirst reports whether r belongs to a script whose names put the
// family name first.
func familyFirst(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hangul, unicode.Hiragana, unicode.Katakana)
}

func isLower(w string) bool {
	for _, r := range w {
		if unicode.IsUpper(r) || unicode.IsTitle(r) {
			return false
		}
	}
	return true
}

// splitName splits a full name into first and last names. "Last, First"
// is read as such; otherwise the last word is the last name together with
// the particles before it ("Anna van der Berg": "Anna", "van der Berg").
// Hyphenated names stay whole. Names in Chinese, Japanese or Korean
// script put the family name first ("山田 太郎": "太郎", "山田"). One word
// gives a first name and no last name.
func splitName(full string) (first, last string) {
	full = squish(full)
	if l, f, ok := strings.Cut(full, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	if r, _ := utf8.DecodeRuneInString(full); familyFirst(r) {
		if l, f, ok := strings.Cut(full, " "); ok {
			return f, l
		}
		return full, ""
	}
	// Walk the words from the end without allocating a slice of them.
	end := len(full)
	start := strings.LastIndexByte(full, ' ') + 1
	if start == 0 {
		return full, ""
	}
	lastStart := start
	for lastStart > 0 {
		prev := strings.LastIndexByte(full[:lastStart-1], ' ') + 1
		w := full[prev : lastStart-1]
		if prev == 0 || !particles[strings.ToLower(w)] {
			break
		}
		lastStart = prev
	}
	return strings.TrimSpace(full[:lastStart]), full[lastStart:end]
}

// normalizeDate reads a date in a common format and returns yyyy-mm-dd:
// yyyy-mm-dd, dd.mm.yyyy, dd/mm/yyyy (day first), yyyy/mm/dd, RFC 3339
// timestamps (the date where it was written), "yyyy-mm-dd hh:mm[:ss]", and
// Unix timestamps in seconds or milliseconds (UTC).
func normalizeDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if isDigits(s) && (len(s) == 10 || len(s) == 13 || len(s) == 9) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", false
		}
		if len(s) == 13 {
			n /= 1000
		}
		return time.Unix(n, 0).UTC().Format(time.DateOnly), true
	}
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.Format(time.DateOnly), true
		}
		s = s[:10]
	}
	a, sep1, rest := leadingNumber(s)
	b, sep2, rest2 := leadingNumber(rest)
	c, _, tail := leadingNumber(rest2)
	if tail != "" || sep1 == 0 || sep1 != sep2 {
		return "", false
	}
	var y, m, d int
	switch {
	case a.digits == 4 && (sep1 == '-' || sep1 == '/' || sep1 == '.') && b.digits <= 2 && c.digits <= 2:
		y, m, d = a.n, b.n, c.n
	case c.digits == 4 && (sep1 == '.' || sep1 == '/' || sep1 == '-') && a.digits <= 2 && b.digits <= 2:
		y, m, d = c.n, b.n, a.n
	default:
		return "", false
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) || y < 1000 {
		return "", false
	}
	var buf [10]byte
	out := strconv.AppendInt(buf[:0], int64(y), 10)
	out = append(out, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return string(out), true
}

type number struct{ n, digits int }

// leadingNumber reads the digits at the start of s and the separator after
// them.
func leadingNumber(s string) (number, byte, string) {
	i := 0
	n := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 5 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 {
		return number{}, 0, "\x00"
	}
	if i == len(s) {
		return number{n, i}, 0, ""
	}
	return number{n, i}, s[i], s[i+1:]
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeNumber reads a number with grouping ("50.000", "50,000",
// "1 234,5", "1'234.50") and returns it as a plain decimal ("50000",
// "1234.5"). A single separator followed by exactly three digits groups
// thousands; otherwise it is the decimal mark.
func normalizeNumber(s string) (string, bool) {
	s = strings.TrimSpace(s)
	var b strings.Builder
	b.Grow(len(s))
	lastDot, lastComma, dots, commas := -1, -1, 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\'' || c == '_':
		case c == '.':
			lastDot, dots = b.Len(), dots+1
			b.WriteByte('.')
		case c == ',':
			lastComma, commas = b.Len(), commas+1
			b.WriteByte(',')
		case (c >= '0' && c <= '9') || (c == '-' && b.Len() == 0) || (c == '+' && b.Len() == 0):
			b.WriteByte(c)
		default:
			return "", false
		}
	}
	t := b.String()
	decimal := -1
	switch {
	case dots > 0 && commas > 0:
		decimal = max(lastDot, lastComma)
	case dots+commas == 1:
		at := max(lastDot, lastComma)
		if len(t)-at-1 != 3 {
			decimal = at
		}
	}
	var out strings.Builder
	for i := 0; i < len(t); i++ {
		switch {
		case i == decimal:
			out.WriteByte('.')
		case t[i] == '.' || t[i] == ',':
		default:
			out.WriteByte(t[i])
		}
	}
	f, err := strconv.ParseFloat(out.String(), 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

// lookupOption finds v in the option table, ignoring case and surrounding
// white space.
func lookupOption(table map[string]string, v string) (string, bool) {
	if o, ok := table[v]; ok {
		return o, true
	}
	v = strings.TrimSpace(v)
	for k, o := range table {
		if strings.EqualFold(strings.TrimSpace(k), v) {
			return o, true
		}
	}
	return "", false
}

// validRegion reports whether r is a region phone numbers may be given in
// (PhoneRegions).
func validRegion(r string) bool {
	_, ok := slices.BinarySearch(PhoneRegions, r)
	return ok
}
