package config

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The policy language's limits. Each is far above what a real policy needs
// (the shipped policy is 4 KB, nests 6 deep, has 4 locals, 40 blocks and
// 39 region patterns, and reads 2.6 MB of feeds), and each keeps a hostile
// policy to well under a second and a few hundred megabytes, but for the
// feeds it reads (see MaxFeedBytes). README.md states them.
const (
	// MaxPolicyBytes is the largest policy or override file.
	MaxPolicyBytes = 256 << 10
	// MaxNesting is how deep brackets, braces, parentheses, blocks, string
	// templates and chained operators may nest: HCL's parser and evaluator
	// recurse once per level.
	MaxNesting = 64
	// MaxValueElements and MaxValueBytes bound every value the policy
	// computes: elements at every level of nesting, and text.
	MaxValueElements = 10_000
	MaxValueBytes    = 1 << 20
	// MaxWork bounds everything evaluating one policy may build, in units
	// of one byte of text; an element counts elementWork bytes.
	MaxWork = 64 << 20
	// MaxBlocks is the most blocks one file may hold, at any depth, and the
	// most sites a policy may declare, for_each included.
	MaxBlocks = 1_000
	// MaxLocals is the most local values a policy may declare.
	MaxLocals = 1_000
	// MaxDeployments is the most deployments a policy may declare: each is
	// planned and rendered in full.
	MaxDeployments = 32
	// MaxRegionPatterns is the most region patterns one deployment's sites
	// and routes may list in all: each is parsed, checked and indexed.
	MaxRegionPatterns = 10_000
	// MaxFeedRegions is the most regions (of a cloud, each counted once)
	// one deployment's feeds may list in all: each is planned for, listed
	// in the plan and the report, and warned about if no site serves it.
	// A real feed lists about 50. compile enforces it.
	MaxFeedRegions = 10_000
	// MaxFeedBytes bounds the feed files a policy reads, counting a file
	// once for each feed and deployment that reads it, since each is
	// classified and planned anew: 52 feeds naming AWS's 2.5 MB take
	// check 3 s and 700 MB. Each file also holds at most
	// feeds.MaxFileBytes.
	MaxFeedBytes = 128 << 20
)

// checkSource refuses a file too big or nested too deeply before HCL's
// parser, which recurses once per level, sees it. Of a file too big, src
// holds the first MaxPolicyBytes+1 bytes.
func checkSource(name string, src []byte) hcl.Diagnostics {
	if len(src) > MaxPolicyBytes {
		at := posAt(src, MaxPolicyBytes)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Policy file too large",
			Detail:   fmt.Sprintf("The file is larger than 256 KiB (%s bytes), the most a policy file may hold.", thousands(MaxPolicyBytes)),
			Subject:  &hcl.Range{Filename: name, Start: at, End: at},
		}}
	}
	tokens, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	if tok, ok := tooDeep(tokens, MaxNesting); ok {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Policy nested too deeply",
			Detail: fmt.Sprintf("Brackets, braces, parentheses, blocks, string templates and chained operators nest more than %d deep here; "+
				"split the expression into local values.", MaxNesting),
			Subject: tok.Range.Ptr(),
		}}
	}
	return nil
}

// nestLevel is one open bracket, brace, parenthesis, string or template
// interpolation.
type nestLevel struct {
	// body is true for a block's body (and the file), where a newline ends
	// an attribute; afterEqual says the current attribute has its "=".
	body, afterEqual bool
	// chain counts operators, "?", "." and "[" since the last separator:
	// HCL nests an expression node for each.
	chain int
}

// tooDeep returns the first token at which the nesting passes limit. Depth
// counts each open level and every chained operator within it.
func tooDeep(tokens hclsyntax.Tokens, limit int) (hclsyntax.Token, bool) {
	stack := []nestLevel{{body: true}}
	depth := 0 // len(stack)-1 plus every level's chain
	var prev hclsyntax.TokenType
	for _, tok := range tokens {
		top := &stack[len(stack)-1]
		switch tok.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			if tok.Type == hclsyntax.TokenOBrack && follows(prev) {
				top.chain++ // an index or splat is a step of the chain
				depth++
			}
			// A brace opens a block when it follows a block's type and
			// labels in a body; elsewhere it opens an object.
			block := tok.Type == hclsyntax.TokenOBrace && top.body && !top.afterEqual &&
				(prev == hclsyntax.TokenIdent || prev == hclsyntax.TokenCQuote)
			stack = append(stack, nestLevel{body: block})
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(stack) > 1 {
				depth -= top.chain + 1
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenComma:
			depth -= top.chain
			top.chain = 0
		case hclsyntax.TokenEqual:
			depth -= top.chain
			top.chain = 0
			top.afterEqual = top.body
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			// Only in a body does a newline end an expression; a comment
			// swallows the newline that ends its line.
			if top.body && (tok.Type == hclsyntax.TokenNewline || bytes.HasSuffix(tok.Bytes, []byte("\n"))) {
				depth -= top.chain
				top.chain, top.afterEqual = 0, false
			}
		case hclsyntax.TokenIdent:
			// Template directives nest in the string that holds them.
			if prev == hclsyntax.TokenTemplateControl && len(stack) > 2 {
				outer := &stack[len(stack)-2]
				switch string(tok.Bytes) {
				case "if", "for":
					outer.chain++
					depth++
				case "endif", "endfor":
					if outer.chain > 0 {
						outer.chain--
						depth--
					}
				}
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenBang, hclsyntax.TokenQuestion, hclsyntax.TokenDot:
			top.chain++
			depth++
		}
		if depth > limit {
			return tok, true
		}
		if tok.Type != hclsyntax.TokenComment {
			prev = tok.Type
		}
	}
	return hclsyntax.Token{}, false
}

// follows reports whether a token after one of type prev continues an
// expression, as "[" does when it indexes rather than opens a tuple.
func follows(prev hclsyntax.TokenType) bool {
	switch prev {
	case hclsyntax.TokenIdent, hclsyntax.TokenNumberLit, hclsyntax.TokenCBrack, hclsyntax.TokenCParen,
		hclsyntax.TokenCBrace, hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
		return true
	}
	return false
}

// posAt returns the position of byte off of src.
func posAt(src []byte, off int) hcl.Pos {
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[start:off]), Byte: off}
}

// countBlocks refuses a file with more than MaxBlocks blocks or MaxLocals
// local values: each costs a diagnostic or a plan step, and a million of
// them would bury the one that matters.
func countBlocks(body *hclsyntax.Body) hcl.Diagnostics {
	var diags hcl.Diagnostics
	blocks, locals := 0, 0
	var walk func(b *hclsyntax.Body)
	walk = func(b *hclsyntax.Body) {
		for _, blk := range b.Blocks {
			blocks++
			if blocks == MaxBlocks+1 {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Too many blocks",
					Detail:   fmt.Sprintf("A policy file holds at most %d blocks; this is one more.", MaxBlocks),
					Subject:  blk.DefRange().Ptr(),
				})
			}
			if blk.Type == "locals" {
				if locals += len(blk.Body.Attributes); locals > MaxLocals {
					attrs := slices.SortedFunc(maps.Values(blk.Body.Attributes), func(a, b *hclsyntax.Attribute) int {
						return a.NameRange.Start.Byte - b.NameRange.Start.Byte
					})
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Too many local values",
						Detail:   fmt.Sprintf("A policy declares at most %d local values; this is one more.", MaxLocals),
						Subject:  attrs[len(attrs)-(locals-MaxLocals)].NameRange.Ptr(),
					})
					locals = math.MinInt // report once
				}
			}
			walk(blk.Body)
		}
	}
	walk(body)
	return diags
}
