// Package sekisho is the controller's vocabulary: the people and cards a
// site knows, a visitor's visit, an alarm and its kinds, who may do what,
// and the errors every part of the controller answers with.
//
// Storage returns these types and the HTTP API speaks them; the access
// rules decide on them without knowing where they are kept. It imports no
// other part of the controller but the site's config.
package sekisho
