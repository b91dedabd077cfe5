package exp

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Table is a titled grid of results.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
	Notes   []string // printed under the table on the terminal
}

// Add appends a row; values are formatted with %v, floats by formatFloat.
func (t *Table) Add(vals ...any) {
	row := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case float64:
			row[i] = formatFloat(x)
		case string:
			row[i] = x
		default:
			row[i] = fmt.Sprint(x)
		}
	}
	t.Rows = append(t.Rows, row)
}

// formatFloat writes four significant digits (%.4g), except that a value
// of 10,000 or more is written whole: a count of 30,820 false deaths reads
// "30820", not "3.082e+04", and no digit of it is dropped.
func formatFloat(x float64) string {
	if math.Abs(x) >= 1e4 && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return fmt.Sprintf("%.4g", x)
}

// Print writes the table for a terminal.
func (t *Table) Print(w io.Writer) error {
	if t.Title != "" {
		if _, err := fmt.Fprintf(w, "\n%s\n", t.Title); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		if _, err := fmt.Fprintf(w, "  %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSV writes the table as CSV with a leading "table" column holding
// the title, so several tables can share one file.
func (t *Table) WriteCSV(w io.Writer, header bool) error {
	cw := csv.NewWriter(w)
	if header {
		if err := cw.Write(append([]string{"table"}, t.Columns...)); err != nil {
			return err
		}
	}
	for _, r := range t.Rows {
		if err := cw.Write(append([]string{t.Title}, r...)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Progress is told how much of an experiment is done, as done of total
// steps; nil means nobody is watching.
type Progress func(done, total int, what string)

func (p Progress) report(done, total int, what string) {
	if p != nil {
		p(done, total, what)
	}
}

// Report tells p about progress; a nil p ignores it.
func (p Progress) Report(done, total int, what string) { p.report(done, total, what) }
