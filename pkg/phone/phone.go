// Package phone formats phone numbers in E.164 with Google's
// libphonenumber metadata (github.com/nyaruka/phonenumbers). It is apart
// from pkg/mapping so that only what applies mappings (the worker) links
// the library, which with its metadata and protobuf is about 8 MB of a
// binary and 6–10 ms of package init; the editor only validates mappings,
// and pkg/mapping keeps the list of regions the library knows
// (mapping's TestPhoneRegions holds it to Regions).
package phone

import (
	"slices"

	"github.com/nyaruka/phonenumbers"
)

// E164 parses number, a national number in region (ISO 3166-1 alpha-2,
// such as DE) unless it has a country code, and returns it in E.164
// (+4915112345678); false when it is not a valid number.
func E164(number, region string) (string, bool) {
	num, err := phonenumbers.Parse(number, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// Regions are the regions the library knows, sorted.
func Regions() []string {
	out := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
