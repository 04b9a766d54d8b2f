package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressBar draws "[=====>    ] 120/500 files" on one line of stderr,
// redrawn at most ten times a second, and erased when done. It is only used
// when stderr is a terminal; otherwise every method does nothing.
type progressBar struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	total   int
	done    int
	label   string
	last    time.Time
	drawn   bool
	started time.Time
}

const progressWidth = 30

func newProgressBar(ios *IOStreams, total int, label string) *progressBar {
	return &progressBar{
		w:       ios.ErrOut,
		on:      ios.ErrTTY && !ios.Quiet,
		total:   total,
		label:   label,
		started: time.Now(),
	}
}

// Set records that done files are finished and redraws when due. A bar
// for one file or none is never drawn.
func (p *progressBar) Set(done int) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.set(done)
}

// SetOf is [progressBar.Set] for a run that learns its total as it goes
// (a walk that updates files as it finds them).
func (p *progressBar) SetOf(done, total int) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
	p.set(done)
}

func (p *progressBar) set(done int) {
	if p.total <= 1 {
		return
	}
	p.done = done
	now := time.Now()
	if done < p.total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	p.draw()
}

func (p *progressBar) draw() {
	filled := 0
	if p.total > 0 {
		filled = p.done * progressWidth / p.total
	}
	bar := strings.Repeat("=", filled)
	if filled < progressWidth {
		bar += ">" + strings.Repeat(" ", progressWidth-filled-1)
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d %s", bar, p.done, p.total, p.label)
	p.drawn = true
}

// Pause erases the bar so that something else can use the line (a
// passphrase prompt); the next Set draws it again.
func (p *progressBar) Pause() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

// Done erases the bar.
func (p *progressBar) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.on = false
}

func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}
