package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Problem is one mistake in a config file.
type Problem struct {
	File string
	Line int
	Key  string // dotted path, e.g. doors[1].to
	Msg  string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Key, p.Msg)
}

// Problems is every mistake found in one file.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads, checks and fills in defaults for the config at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse checks config text; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	cfg := &Config{File: file}
	c, err := decode(file, data, cfg)
	if err != nil {
		return nil, err
	}
	c.validate(cfg)
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return cfg, nil
}

// Checker notes the mistakes of one file at its keys' lines.
type Checker struct{ c *checker }

// At notes a mistake at key (its names and list indexes from the top, as
// "sites", 0, "key"), on the line the key is written.
func (k Checker) At(key []any, format string, args ...any) { k.c.at(path(key), format, args...) }

// Decode reads YAML into v (a pointer to a struct with yaml tags) the way
// a site's config is read: unknown keys and values of the wrong type are
// noted, then validate notes its own; every mistake of the file at once,
// as Problems. Other Sekisho configs (head office's) read through it.
func Decode(file string, data []byte, v any, validate func(Checker)) error {
	c, err := decode(file, data, v)
	if err != nil {
		return err
	}
	if validate != nil {
		validate(Checker{c})
	}
	if len(c.problems) > 0 {
		return c.problems
	}
	return nil
}

func decode(file string, data []byte, v any) (*checker, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: file, Line: yamlLine(err), Key: "(syntax)", Msg: yamlMsg(err)}}
	}
	if len(root.Content) == 0 {
		return nil, Problems{{File: file, Line: 1, Key: "(document)", Msg: "the file is empty"}}
	}
	// Every mistake in one pass: unknown keys and values of the wrong type
	// are noted, and the rest of the file is still decoded and checked.
	c := &checker{file: file, root: &root}
	c.known(root.Content[0], reflect.TypeOf(v), nil)
	if err := root.Decode(v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, append(c.problems, Problem{File: file, Line: 1, Key: "(document)", Msg: err.Error()})
		}
		reported := map[int]bool{}
		for _, p := range c.problems {
			reported[p.Line] = true
		}
		for _, e := range te.Errors {
			if line := yamlLine(errors.New(e)); !reported[line] {
				c.problems = append(c.problems, Problem{File: file, Line: line, Key: "(value)", Msg: yamlMsg(errors.New(e))})
			}
		}
	}
	return c, nil
}

var lineRE = regexp.MustCompile(`line (\d+): `)

func yamlLine(err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

func yamlMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return lineRE.ReplaceAllString(s, "")
}

type checker struct {
	file     string
	root     *yaml.Node
	problems Problems
}

// path is a list of keys (string) and indices (int) from the document root.
type path []any

func (p path) String() string {
	var sb strings.Builder
	for _, e := range p {
		switch v := e.(type) {
		case int:
			fmt.Fprintf(&sb, "[%d]", v)
		case string:
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteString(v)
		}
	}
	return sb.String()
}

func (p path) with(e ...any) path { return append(append(path{}, p...), e...) }

func (c *checker) add(line int, p path, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Line: line, Key: p.String(), Msg: fmt.Sprintf(format, args...)})
}

// at reports a problem at the line where p is written (or its nearest parent).
func (c *checker) at(p path, format string, args ...any) {
	c.add(c.lineOf(p), p, format, args...)
}

func (c *checker) lineOf(p path) int {
	n := c.root.Content[0]
	line := n.Line
	for _, e := range p {
		var next *yaml.Node
		switch v := e.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						line = n.Content[i].Line
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

var durationType = reflect.TypeOf(time.Duration(0))

// known walks the YAML beside the Go type and reports every key the type
// does not have, so a typo never silently turns a setting off.
func (c *checker) known(n *yaml.Node, t reflect.Type, p path) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		c.scalar(n, t, p)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == durationType || n.Kind != yaml.MappingNode {
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		sort.Strings(names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			ft, ok := fields[key]
			if !ok {
				c.add(n.Content[i].Line, p.with(key), "unknown key (known here: %s)", strings.Join(names, ", "))
				continue
			}
			c.known(n.Content[i+1], ft, p.with(key))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			c.known(item, t.Elem(), p.with(i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.known(n.Content[i+1], t.Elem(), p.with(n.Content[i].Value))
		}
	}
}

// scalar notes a value that can't be read as its key's type, in words an
// installer can act on.
func (c *checker) scalar(n *yaml.Node, t reflect.Type, p path) {
	want := ""
	switch {
	case t == durationType:
		want = "a duration like 20s, 5m or 1h30m"
	case t.Kind() == reflect.Bool:
		want = "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64, t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64:
		want = "a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		want = "a number"
	case t.Kind() == reflect.Slice:
		want = "a list"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		want = "a block of keys"
	default:
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		c.add(n.Line, p, "%q is not %s", n.Value, want)
	}
}
