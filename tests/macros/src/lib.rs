//! `#[needs(lab, squid, htpasswd)]` on an end-to-end test: for each component the test needs
//! (the names of `tests/src/lab/components.rs`, or of its groups: `lab` is root and `ip`,
//! `windows`, `dist` and `kdc` what their harnesses need), the test is ignored
//! with that component's reason when `tests/build.rs` found it missing (`cfg(lab_missing_<id>)`,
//! never set under `CI=true`). nextest then counts the test as skipped and says why.
//!
//! Only the first missing component ignores the test: a test carries at most one `ignore`.
//! The attribute marks; the test still calls its run-time check (`lab::require`, ...), which
//! under `CI=true` fails naming what is missing.

#[path = "../../src/lab/components.rs"]
#[allow(dead_code)]
mod components;

use proc_macro::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};

#[proc_macro_attribute]
pub fn needs(attr: TokenStream, item: TokenStream) -> TokenStream {
    let checked = match another_needs(&item) {
        Some(span) => Err((
            span,
            "a second #[needs(...)]: name every component in one".to_string(),
        )),
        None => ignores(attr),
    };
    let mut out = match checked {
        Ok(attrs) => attrs,
        Err((span, message)) => compile_error(span, &message),
    };
    out.extend(item);
    out
}

/// One `#[cfg_attr(<this missing, none before it>, ignore = "<why>")]` per component.
fn ignores(attr: TokenStream) -> Result<TokenStream, (Span, String)> {
    let mut earlier: Vec<String> = Vec::new();
    let mut out = String::new();
    for (id, span) in names(attr)? {
        for id in components::expand(&id) {
            let c = components::component(id).ok_or_else(|| {
                let known = components::GROUPS.iter().map(|(group, _)| *group)
                    .chain(components::COMPONENTS.iter().map(|c| c.id))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    span,
                    format!("unknown lab component `{id}` (known: {known}; see tests/src/lab/components.rs)"),
                )
            })?;
            let cfg = c.cfg();
            if earlier.contains(&cfg) {
                continue;
            }
            out.push_str(&format!(
                "#[cfg_attr(all({cfg}, not(any({}))), ignore = {})]",
                earlier.join(", "),
                Literal::string(&c.why())
            ));
            earlier.push(cfg);
        }
    }
    Ok(out.parse().expect("generated attributes parse"))
}

/// Where the item carries another `#[needs(...)]` (two would give a test two `ignore`s).
fn another_needs(item: &TokenStream) -> Option<Span> {
    let mut tokens = item.clone().into_iter().peekable();
    while let Some(tt) = tokens.next() {
        let TokenTree::Punct(p) = &tt else { continue };
        if p.as_char() != '#' {
            continue;
        }
        let Some(TokenTree::Group(g)) = tokens.peek() else {
            continue;
        };
        let path: Vec<String> = g
            .stream()
            .into_iter()
            .take_while(|t| !matches!(t, TokenTree::Group(_)))
            .filter_map(|t| match t {
                TokenTree::Ident(i) => Some(i.to_string()),
                _ => None,
            })
            .collect();
        if g.delimiter() == Delimiter::Bracket && path.last().is_some_and(|l| l == "needs") {
            return Some(g.span());
        }
    }
    None
}

/// The comma-separated names in `#[needs(a, b)]`.
fn names(attr: TokenStream) -> Result<Vec<(String, Span)>, (Span, String)> {
    let mut names = Vec::new();
    let mut expect_name = true;
    for tt in attr {
        match (&tt, expect_name) {
            (TokenTree::Ident(ident), true) => names.push((ident.to_string(), ident.span())),
            (TokenTree::Punct(p), false) if p.as_char() == ',' => {}
            _ => {
                return Err((
                    tt.span(),
                    "expected component names separated by commas, as in #[needs(lab, squid)]"
                        .into(),
                ))
            }
        }
        expect_name = !expect_name;
    }
    if names.is_empty() {
        return Err((Span::call_site(), "#[needs(...)] names no component".into()));
    }
    Ok(names)
}

fn compile_error(span: Span, message: &str) -> TokenStream {
    let mut lit = Literal::string(message);
    lit.set_span(span);
    let mut tokens: TokenStream = "::core::compile_error!".parse().expect("path parses");
    tokens.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        TokenTree::Literal(lit).into(),
    ))]);
    tokens.extend(";".parse::<TokenStream>());
    tokens
}
