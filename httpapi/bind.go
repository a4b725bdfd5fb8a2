package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/casapay/casapay"
)

// This file holds the binders: each reads one kind of parameter (a string, an integer, a hash, a list,
// expand, a cursor, a time range) from the tree params.go decodes, and answers a *casapay.Error naming
// the parameter when it cannot. Each endpoint's own binding (customer_params.go, event_params.go) is
// a loop over the tree's keys that calls them.

// decodeNoParams checks that a request has no parameters, as a delete or a retrieve without options.
func decodeNoParams(r *http.Request) error {
	root, err := decodeParamTree(r)
	if err != nil {
		return err
	}
	if len(root.keys) > 0 {
		return unknownParam(root.keys[0])
	}
	return nil
}

// bindString reads a string parameter. A JSON null reads as "".
func bindString(n *paramNode, param string) (*string, error) {
	if n.kind != paramString {
		return nil, casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
			"Invalid string: %s must be a string, not %v.", param, n.kind)
	}
	// PostgreSQL cannot store NUL in text, and no CasaPay field has a use for it.
	if strings.IndexByte(n.text, 0) >= 0 {
		return nil, casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
			"Invalid string: %s must not contain NUL characters.", param)
	}
	s := n.text
	return &s, nil
}

// bindAddress reads an address hash; "" (or JSON null) unsets the whole address.
func bindAddress(n *paramNode, param string) (*casapay.AddressParams, error) {
	if n.kind != paramHash {
		if n.kind == paramString && n.text == "" {
			return &casapay.AddressParams{Unset: true}, nil
		}
		return nil, casapay.InvalidParam("", param,
			"Invalid object: %s must be an object, or an empty string to unset it.", param)
	}
	a := &casapay.AddressParams{}
	for _, key := range n.keys {
		var field **string
		switch key {
		case "line1":
			field = &a.Line1
		case "line2":
			field = &a.Line2
		case "city":
			field = &a.City
		case "state":
			field = &a.State
		case "postal_code":
			field = &a.PostalCode
		case "country":
			field = &a.Country
		default:
			return nil, unknownParam(paramPath(param, key))
		}
		var err error
		if *field, err = bindString(n.hash[key], paramPath(param, key)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// bindMetadata reads a metadata hash of strings. "" (or JSON null) clears all metadata; an empty
// value removes its key. Limits on keys and values are Validate's.
func bindMetadata(n *paramNode, param string) (metadata map[string]string, clear bool, err error) {
	if n.kind != paramHash {
		if n.kind == paramString && n.text == "" {
			return nil, true, nil
		}
		return nil, false, casapay.InvalidParam("", param,
			"Invalid hash: %s must be a hash of strings, or an empty string to clear it.", param)
	}
	for _, key := range n.keys {
		if strings.IndexByte(key, 0) >= 0 {
			return nil, false, casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
				"Invalid %s: keys must not contain NUL characters.", param)
		}
		v, err := bindString(n.hash[key], paramPath(param, key))
		if err != nil {
			return nil, false, err
		}
		if metadata == nil {
			metadata = make(map[string]string, len(n.keys))
		}
		metadata[key] = *v
	}
	return metadata, false, nil
}

// bindList reads an array given as a[]=, as a[0]=, a[1]=… (indices 0 to n-1 in order, as
// stripe-go sends them), or as a JSON array. "" (or JSON null) is an empty array.
func bindList(n *paramNode, param string) ([]*paramNode, error) {
	switch n.kind {
	case paramList:
		return n.items, nil
	case paramHash:
		items := make([]*paramNode, len(n.keys))
		for i, key := range n.keys {
			if key != strconv.Itoa(i) {
				return nil, casapay.InvalidParam("", param,
					"Invalid array: the indices of %s must be 0, 1, 2… in order.", param)
			}
			items[i] = n.hash[key]
		}
		return items, nil
	case paramString:
		if n.text == "" {
			return nil, nil
		}
	}
	return nil, casapay.InvalidParam("", param, "Invalid array: %s must be an array.", param)
}

// bindExpand reads an expand array whose values must be among expandable.
func bindExpand(n *paramNode, param string, expandable ...string) ([]string, error) {
	items, err := bindList(n, param)
	if err != nil {
		return nil, err
	}
	var expand []string
	for i, item := range items {
		p := paramPath(param, strconv.Itoa(i))
		s, err := bindString(item, p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(expandable, *s) {
			return nil, casapay.InvalidParam("", p, "This property cannot be expanded (%s).", *s)
		}
		expand = append(expand, *s)
	}
	return expand, nil
}

// bindListExpand reads a list's expand[], whose only item may be "data." + field: the field expanded in
// every object of the page. It returns the field to expand in each, or nothing.
func bindListExpand(n *paramNode, param, field string) ([]string, error) {
	expand, err := bindExpand(n, param, "data."+field)
	if err != nil || len(expand) == 0 {
		return nil, err
	}
	return []string{field}, nil
}

// bindInt64 reads an integer given as a string (from a form) or a JSON number. It returns nil for "".
func bindInt64(n *paramNode, param string) (*int64, error) {
	if n.kind == paramString && n.text == "" {
		return nil, nil
	}
	if n.kind == paramString || n.kind == paramNumber {
		if v, err := strconv.ParseInt(n.text, 10, 64); err == nil {
			return &v, nil
		}
	}
	return nil, casapay.InvalidParam(casapay.CodeParameterInvalidInteger, param,
		"Invalid integer: %s must be an integer.", param)
}

func bindLimit(n *paramNode, param string, limit *int) error {
	v, err := bindInt64(n, param)
	if err != nil || v == nil {
		return err
	}
	if *v < 1 || *v > casapay.MaxListLimit {
		return casapay.InvalidParam(casapay.CodeParameterInvalidInteger, param,
			"Invalid %s: must be between 1 and %d.", param, casapay.MaxListLimit)
	}
	*limit = int(*v)
	return nil
}

// bindCursor reads starting_after or ending_before, which must look like an ID with prefix, of an
// object of the kind noun. The value is not echoed: ValidID failing means it may be anything.
func bindCursor(n *paramNode, param, prefix, noun string) (string, error) {
	s, err := bindString(n, param)
	if err != nil {
		return "", err
	}
	if *s != "" && !casapay.ValidID(prefix, *s) {
		return "", casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
			"Invalid %s: it must be a %s ID, such as %s_123.", param, noun, prefix)
	}
	return *s, nil
}

// page points at the fields every list's filter has: limit and the two cursors, whose IDs have prefix
// and name an object of the kind noun. A list binds them with bind and checks them with check, and
// binds only its own filters itself.
type page struct {
	prefix, noun                string
	limit                       *int
	startingAfter, endingBefore *string
}

// bind binds key if it is limit, starting_after or ending_before, and reports whether it was.
func (p page) bind(n *paramNode, key string) (bool, error) {
	var err error
	switch key {
	case "limit":
		err = bindLimit(n, key, p.limit)
	case "starting_after":
		*p.startingAfter, err = bindCursor(n, key, p.prefix, p.noun)
	case "ending_before":
		*p.endingBefore, err = bindCursor(n, key, p.prefix, p.noun)
	default:
		return false, nil
	}
	return true, err
}

// check rejects a list given both cursors.
func (p page) check() error {
	if *p.startingAfter != "" && *p.endingBefore != "" {
		return casapay.InvalidParam(casapay.CodeParametersExclusive, "ending_before",
			"You may only specify one of these parameters: starting_after, ending_before.")
	}
	return nil
}

// bindTimeRange reads created=unix (exactly that second) or created[gt|gte|lt|lte]=unix.
func bindTimeRange(n *paramNode, param string) (casapay.TimeRange, error) {
	var tr casapay.TimeRange
	if n.kind != paramHash {
		v, err := bindInt64(n, param)
		if err != nil || v == nil {
			return tr, err
		}
		exact := *v
		tr.Gte, tr.Lte = v, &exact
		return tr, nil
	}
	for _, key := range n.keys {
		var bound **int64
		switch key {
		case "gt":
			bound = &tr.Gt
		case "gte":
			bound = &tr.Gte
		case "lt":
			bound = &tr.Lt
		case "lte":
			bound = &tr.Lte
		default:
			return tr, unknownParam(paramPath(param, key))
		}
		var err error
		if *bound, err = bindInt64(n.hash[key], paramPath(param, key)); err != nil {
			return tr, err
		}
	}
	return tr, nil
}
