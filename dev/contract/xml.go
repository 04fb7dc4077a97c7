package contract

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// node is a parsed XML element.
type node struct {
	XMLName  xml.Name
	Children []node `xml:",any"`
	Text     string `xml:",chardata"`
}

// decodeXML is a kin-openapi body decoder for application/xml: it reads the
// document into the value its schema describes, matching child elements to
// properties by the property's or its items' xml name, and reading leaves
// as numbers where the schema says integer or number.
func decodeXML(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var root node
	if err := xml.NewDecoder(body).Decode(&root); err != nil {
		return nil, fmt.Errorf("xml: %w", err)
	}
	if schema == nil || schema.Value == nil {
		return nil, fmt.Errorf("xml: no schema")
	}
	if x := schema.Value.XML; x != nil && x.Name != "" && x.Name != root.XMLName.Local {
		return nil, fmt.Errorf("xml: root element is <%s>, want <%s>", root.XMLName.Local, x.Name)
	}
	return xmlValue(root, schema.Value), nil
}

func xmlValue(n node, s *openapi3.Schema) any {
	if s == nil {
		return strings.TrimSpace(n.Text)
	}
	// A schema that only wraps another (allOf with one member) stands for it.
	for s.Type == nil && len(s.Properties) == 0 && len(s.AllOf) == 1 && s.AllOf[0].Value != nil {
		s = s.AllOf[0].Value
	}
	switch {
	case s.Type.Is("integer"):
		if v, err := strconv.ParseInt(strings.TrimSpace(n.Text), 10, 64); err == nil {
			return float64(v)
		}
		return strings.TrimSpace(n.Text)
	case s.Type.Is("number"):
		if v, err := strconv.ParseFloat(strings.TrimSpace(n.Text), 64); err == nil {
			return v
		}
		return strings.TrimSpace(n.Text)
	case s.Type.Is("array"):
		var item *openapi3.Schema
		if s.Items != nil {
			item = s.Items.Value
		}
		return []any{xmlValue(n, item)}
	case s.Type.Is("object") || len(s.Properties) > 0:
		obj := map[string]any{}
		for _, c := range n.Children {
			name, prop := property(s, c.XMLName.Local)
			if prop != nil && prop.Type.Is("array") {
				var item *openapi3.Schema
				if prop.Items != nil {
					item = prop.Items.Value
				}
				list, _ := obj[name].([]any)
				obj[name] = append(list, xmlValue(c, item))
				continue
			}
			obj[name] = xmlValue(c, prop)
		}
		return obj
	}
	return strings.TrimSpace(n.Text)
}

// property finds the property an element stands for: by the property's
// xml name, by its items' xml name for arrays, or by its own name.
func property(s *openapi3.Schema, element string) (string, *openapi3.Schema) {
	for name, ref := range s.Properties {
		if ref == nil || ref.Value == nil {
			continue
		}
		p := ref.Value
		if p.XML != nil && p.XML.Name == element {
			return name, p
		}
		if p.Type.Is("array") && p.Items != nil && p.Items.Value != nil && p.Items.Value.XML != nil && p.Items.Value.XML.Name == element {
			return name, p
		}
	}
	if ref, ok := s.Properties[element]; ok && ref != nil {
		return element, ref.Value
	}
	return element, nil
}
