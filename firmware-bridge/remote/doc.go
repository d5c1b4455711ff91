// Package remote links a door Pi's bridge to the controller over MQTT
// (<prefix>/bridges/<id>/signals, /commands, /cards, /held, /status, /link). The Daemon
// runs on the door Pi; Link is the controller's side, one more bridge.Link.
//
// Every signal a bridge senses is first appended to its own SQLite outbox
// and published from there in order, so nothing is lost while the broker or
// the controller is away. A card is decided by the controller while the link
// is up; when it is not (or the answer is late), the bridge decides from the
// cards it holds and sends its decision along with the signal. The
// controller logs those once, by id, as decided_by bridge. The cards come
// from the controller's fleet as signed, sealed snapshots and deltas
// (cards.go, held.go), kept one row a card (keptcards.go).
package remote
