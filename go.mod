module github.com/sekisho/sekisho

go 1.26.8

require (
	github.com/jonboulle/clockwork v0.5.0
	periph.io/x/conn/v3 v3.7.3
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
