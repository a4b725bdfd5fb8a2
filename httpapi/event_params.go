package httpapi

import (
	"net/http"
	"strconv"

	"github.com/casapay/casapay"
)

// This file binds the parameters of the event endpoints.

// decodeEventList returns the filter of GET /v1/events: the list parameters, created, and either type
// (an exact type or a pattern such as customer.*) or types[] (up to casapay.MaxEventTypes exact types),
// never both. A type that names no known event is a 400, not an empty list.
func decodeEventList(r *http.Request) (*casapay.EventFilter, error) {
	root, err := decodeParamTree(r)
	if err != nil {
		return nil, err
	}
	f := &casapay.EventFilter{Limit: casapay.DefaultListLimit}
	pg := page{prefix: "evt", noun: "event", limit: &f.Limit, startingAfter: &f.StartingAfter, endingBefore: &f.EndingBefore}
	var ofType, ofTypes []string // what type and types select; at most one may be given
	for _, key := range root.keys {
		n := root.hash[key]
		if ok, err := pg.bind(n, key); ok || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		switch key {
		case "created":
			f.Created, err = bindTimeRange(n, key)
		case "type":
			var pattern *string
			if pattern, err = bindString(n, key); err == nil && *pattern != "" {
				ofType, err = casapay.EventTypesMatching(key, *pattern)
			}
		case "types":
			ofTypes, err = bindEventTypes(n, key)
		case "delivery_success":
			if n.kind != paramString || n.text != "" {
				f.DeliverySuccess, err = bindBool(n, key)
			}
		default:
			err = unknownParam(key)
		}
		if err != nil {
			return nil, err
		}
	}
	if ofType != nil && ofTypes != nil {
		return nil, casapay.InvalidParam(casapay.CodeParametersExclusive, "types",
			"You may only specify one of these parameters: type, types.")
	}
	f.Types = ofType
	if ofTypes != nil {
		f.Types = ofTypes
	}
	if err := pg.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// bindEventTypes reads types[]: at most casapay.MaxEventTypes exact, known event types. An empty list
// filters nothing.
func bindEventTypes(n *paramNode, param string) ([]string, error) {
	items, err := bindList(n, param)
	if err != nil {
		return nil, err
	}
	if len(items) > casapay.MaxEventTypes {
		return nil, casapay.InvalidParam(casapay.CodeParameterInvalidString, param,
			"Invalid %s: it can name at most %d event types.", param, casapay.MaxEventTypes)
	}
	var types []string
	for i, item := range items {
		p := paramPath(param, strconv.Itoa(i))
		s, err := bindString(item, p)
		if err != nil {
			return nil, err
		}
		matched, err := casapay.EventTypesMatching(p, *s)
		if err != nil {
			return nil, err
		}
		if len(matched) != 1 || matched[0] != *s {
			return nil, casapay.InvalidParam(casapay.CodeParameterInvalidString, p,
				"Invalid %s: types takes exact event types; use type for a pattern such as %s.", p, *s)
		}
		types = append(types, *s)
	}
	return types, nil
}
