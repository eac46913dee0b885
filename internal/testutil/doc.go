// Package testutil builds the objects that tests of every tier start from, so
// that a test says what is special about its Tenant in one line instead of a
// literal of nested structs:
//
//	testutil.Tenant("acme").Owner("alice").Member("bob").Hard().Obj()
//
// Builders set only what they are told; profile defaults stay unset so that
// tests exercise the same defaulting as production (render.Effective). It must
// not import a client or anything under internal/ other than what describes
// the API, so that any test package can use it without import cycles.
package testutil
