package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// mergeBody applies over to base in place: each attribute in over replaces
// the attribute of the same name, and each block is merged into the base block
// with the same type and labels. what names the source of the changes
// ("override" or a deployment) for diagnostics.
func mergeBody(base, over *hclsyntax.Body, what string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(over.Attributes) {
		base.Attributes[name] = over.Attributes[name]
	}
	for _, ob := range over.Blocks {
		if ob.Type == "deployment" && what != "override" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Nested deployment",
				Detail:   "A deployment cannot contain another deployment; declare it at the top level.",
				Subject:  ob.DefRange().Ptr(),
			})
			continue
		}
		bb := findBlock(base, ob)
		if bb != nil {
			diags = append(diags, mergeBody(bb.Body, ob.Body, what)...)
			continue
		}
		if len(ob.Labels) == 0 {
			// An unlabelled block (such as mirror's check) may be absent
			// from the base; the change then supplies all of it.
			base.Blocks = append(base.Blocks, copyBlock(ob))
			continue
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Nothing to override",
			Detail: fmt.Sprintf("This %s changes %s, but the policy declares no such block.%s",
				what, blockName(ob), DidYouMean(strings.Join(ob.Labels, " "), blockLabels(base, ob.Type))),
			Subject: ob.DefRange().Ptr(),
		})
	}
	return diags
}

func findBlock(body *hclsyntax.Body, want *hclsyntax.Block) *hclsyntax.Block {
	for _, b := range body.Blocks {
		if b.Type == want.Type && strings.Join(b.Labels, "\x00") == strings.Join(want.Labels, "\x00") {
			return b
		}
	}
	return nil
}

func blockName(b *hclsyntax.Block) string {
	var s strings.Builder
	s.WriteString(b.Type)
	for _, l := range b.Labels {
		fmt.Fprintf(&s, " %q", l)
	}
	return s.String()
}

// blockLabels returns the labels of each block of a type, joined by spaces.
func blockLabels(body *hclsyntax.Body, typ string) []string {
	var labels []string
	for _, b := range body.Blocks {
		if b.Type == typ {
			labels = append(labels, strings.Join(b.Labels, " "))
		}
	}
	return labels
}

// copyBlock returns a copy of b whose attribute maps and block lists can be
// changed without changing b. Expressions are shared: nothing mutates them.
func copyBlock(b *hclsyntax.Block) *hclsyntax.Block {
	c := *b
	c.Body = copyBody(b.Body)
	return &c
}

func copyBody(b *hclsyntax.Body) *hclsyntax.Body {
	c := *b
	c.Attributes = make(hclsyntax.Attributes, len(b.Attributes))
	for k, v := range b.Attributes {
		c.Attributes[k] = v
	}
	c.Blocks = make(hclsyntax.Blocks, len(b.Blocks))
	for i, blk := range b.Blocks {
		c.Blocks[i] = copyBlock(blk)
	}
	return &c
}

type variant struct {
	name string
	body *hclsyntax.Body
}

// splitDeployments returns the policy each deployment block describes: the
// base policy with the deployment's blocks merged in. A policy without
// deployments has one unnamed variant.
func splitDeployments(base *hclsyntax.Body) ([]variant, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var deployments []*hclsyntax.Block
	shared := copyBody(base)
	shared.Blocks = nil
	for _, b := range base.Blocks {
		if b.Type == "deployment" {
			deployments = append(deployments, b)
		} else {
			shared.Blocks = append(shared.Blocks, b)
		}
	}
	if len(deployments) == 0 {
		return []variant{{body: shared}}, nil
	}
	seen := map[string]*hclsyntax.Block{}
	var out []variant
	for i, d := range deployments {
		if i == MaxDeployments {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Too many deployments",
				Detail:   fmt.Sprintf("A policy declares at most %d deployments; each is planned and rendered in full.", MaxDeployments),
				Subject:  d.DefRange().Ptr(),
			})
			break
		}
		if len(d.Labels) != 1 || !namePattern.MatchString(d.Labels[0]) {
			diags = append(diags, badName("deployment", d.DefRange()))
			continue
		}
		name := d.Labels[0]
		if prev, ok := seen[name]; ok {
			diags = append(diags, duplicate("deployment", name, d.DefRange(), prev.DefRange()))
			continue
		}
		seen[name] = d
		body := copyBody(shared)
		diags = append(diags, mergeBody(body, d.Body, fmt.Sprintf("deployment %q", name))...)
		out = append(out, variant{name: name, body: body})
	}
	return out, diags
}
