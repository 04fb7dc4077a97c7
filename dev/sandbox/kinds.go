package sandbox

import (
	"slices"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
)

// Attribute kinds of custom attributes whose values the sandbox checks as
// Personio does; a seed may declare any type a mapping's custom attribute
// may (mapping.CustomAttributeTypes, see knownKind).
const (
	KindText   = string(mapping.KindText)
	KindNumber = string(mapping.KindNumber)
	KindDate   = string(mapping.KindDate)
	KindOption = string(mapping.KindOption)
)

// knownKind reports whether a seed's custom attribute may have kind: one
// of the types a mapping's custom attribute rule may declare.
func knownKind(kind string) bool {
	return slices.Contains(mapping.CustomAttributeTypes, kind)
}
