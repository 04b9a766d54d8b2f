package textedit

import (
	"errors"
	"testing"
)

func TestApply(t *testing.T) {
	data := []byte("alpha\nbeta\ngamma\n")
	tests := []struct {
		name  string
		edits []Edit
		want  string
		err   error
	}{
		{"none", nil, "alpha\nbeta\ngamma\n", nil},
		{"replace", []Edit{{6, 10, "BETA"}}, "alpha\nBETA\ngamma\n", nil},
		{"delete line", []Edit{{6, 11, ""}}, "alpha\ngamma\n", nil},
		{"append", []Edit{{17, 17, "delta\n"}}, "alpha\nbeta\ngamma\ndelta\n", nil},
		// Any order in; an insertion goes before a replacement at its offset.
		{"unordered", []Edit{{11, 16, "G"}, {6, 6, "+"}, {6, 10, "b"}, {0, 0, ">"}}, ">alpha\n+b\nG\n", nil},
		// Insertions at one offset keep their order.
		{"same offset", []Edit{{0, 0, "1"}, {0, 0, "2"}}, "12alpha\nbeta\ngamma\n", nil},
		{"overlap", []Edit{{0, 7, ""}, {6, 8, ""}}, "", ErrOverlap},
		{"outside", []Edit{{10, 40, ""}}, "", ErrOverlap},
		{"reversed", []Edit{{5, 3, ""}}, "", ErrOverlap},
	}
	for _, tt := range tests {
		got, err := Apply(data, tt.edits)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err == nil && string(got) != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if string(data) != "alpha\nbeta\ngamma\n" {
		t.Fatalf("input changed: %q", data)
	}
}
