package httpapi_test

import (
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/casapay/casapay"
)

var ignoreStatus = cmpopts.IgnoreFields(casapay.Error{}, "Status")

func casapayError(typ, code, param, msg string) casapay.Error {
	return casapay.Error{Type: typ, Code: code, Param: param, Message: msg}
}
