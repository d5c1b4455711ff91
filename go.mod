module github.com/sekisho/sekisho

go 1.26.8

require (
	github.com/jonboulle/clockwork v0.5.0
	periph.io/x/conn/v3 v3.7.3
)

require gopkg.in/yaml.v3 v3.0.1 // indirect
