//! How deeply a features document nests, found by a linear scan of its text
//! before any parser sees it. The YAML parser's cost grows with the square
//! of the nesting (a 200 KB file of `[[[[…` took 19 s to refuse), so depth
//! is bounded first. The scan over-counts rather than under-counts: it
//! treats every deeper indentation as a level and every `- ` as a level,
//! which is at least what the parser will build.

/// The deepest nesting a features document may have. Real configurations
/// stay under ten levels.
pub const MAX_FEATURES_DEPTH: usize = 64;

/// The deepest nesting found, or `None` as soon as it passes `max`.
pub fn within_depth(text: &str, max: usize) -> Option<usize> {
    let mut scan = Scan::default();
    let mut deepest = 0;
    // A block scalar (`key: |`) owns the more-indented lines below it.
    let mut block_scalar_at: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        if scan.flow == 0 && scan.quote.is_none() {
            if content.trim().is_empty() {
                continue;
            }
            if let Some(owner) = block_scalar_at {
                if indent > owner {
                    continue;
                }
                block_scalar_at = None;
            }
            if content.starts_with('#') {
                continue;
            }
            // Indentation levels, then one more level per leading `- `.
            while scan.indents.last().is_some_and(|&top| top > indent) {
                scan.indents.pop();
            }
            let mut column = indent;
            let mut rest = content;
            loop {
                if scan.indents.last().is_none_or(|&top| top < column) {
                    scan.indents.push(column);
                }
                match rest
                    .strip_prefix('-')
                    .filter(|r| r.is_empty() || r.starts_with(' '))
                {
                    Some(after) => {
                        let skipped = after.len() - after.trim_start_matches(' ').len();
                        column += 1 + skipped;
                        rest = &after[skipped..];
                        if rest.is_empty() {
                            break;
                        }
                    }
                    None => break,
                }
            }
            if ends_with_block_scalar(rest) {
                block_scalar_at = Some(indent);
            }
        }
        scan.flow_in(line);
        deepest = deepest.max(scan.indents.len() + scan.flow_peak);
        scan.flow_peak = scan.flow;
        if deepest > max {
            return None;
        }
    }
    Some(deepest)
}

/// `key: |`, `key: >-`, `- |2` …: the start of a literal or folded block.
fn ends_with_block_scalar(content: &str) -> bool {
    let before_comment = match content.find(" #") {
        Some(at) => &content[..at],
        None => content,
    };
    let last = before_comment
        .trim_end()
        .rsplit([' ', '\t'])
        .next()
        .unwrap_or("");
    let mut chars = last.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| matches!(c, '-' | '+') || c.is_ascii_digit())
}

#[derive(Default)]
struct Scan {
    /// Indentation columns of the open block levels.
    indents: Vec<usize>,
    /// Open flow collections (`[`, `{`), which may span lines.
    flow: usize,
    /// The most flow collections open at once on the current line.
    flow_peak: usize,
    /// Inside a quoted scalar that may span lines: its quote character.
    quote: Option<char>,
}

impl Scan {
    /// Follows brackets and quotes through one line; a `#` after a space
    /// starts a comment.
    fn flow_in(&mut self, line: &str) {
        let mut previous = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match self.quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some('\'') if c == '\'' && chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                Some(q) if c == q => self.quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous == ' ' || previous == '\t' => return,
                    '"' | '\'' if starts_scalar(previous) => self.quote = Some(c),
                    '[' | '{' => {
                        self.flow += 1;
                        self.flow_peak = self.flow_peak.max(self.flow);
                    }
                    ']' | '}' => self.flow = self.flow.saturating_sub(1),
                    _ => {}
                },
            }
            previous = c;
        }
    }
}

/// A quote opens a quoted scalar only where a scalar can start (`it's` is
/// plain text).
fn starts_scalar(previous: char) -> bool {
    matches!(previous, ' ' | '\t' | '[' | '{' | ',' | ':' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> Option<usize> {
        within_depth(text, 100)
    }

    #[test]
    fn ordinary_configs_are_shallow() {
        let yaml = "model:\n  lr: 0.001  # comment [\n  layers: [64, 32]\n  opt:\n    name: adam\n\
                    steps:\n  - warmup: 10\n  - {decay: 0.1, to: [1, 2]}\nnote: \"a [quoted\" \n";
        // The list item `- {…: [..]}` counts its dash and its brace (5, the
        // tree has 4 levels): the scan errs on the deep side.
        assert_eq!(depth(yaml), Some(5));
        assert_eq!(depth("{\"a\": {\"b\": [1, {\"c\": 2}]}}"), Some(5));
        assert_eq!(depth(""), Some(0));
    }

    #[test]
    fn block_scalars_do_not_count_their_indentation() {
        let yaml = "script: |\n  a\n    b\n      c\n        d\nnext: 1\n";
        assert_eq!(depth(yaml), Some(1));
    }

    #[test]
    fn deep_flow_block_and_dash_nesting_are_seen() {
        let flow = "a: ".to_owned() + &"[".repeat(70) + &"]".repeat(70);
        assert_eq!(within_depth(&flow, 64), None);
        let block: String = (0..70).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(within_depth(&block, 64), None);
        let dashes = "- ".repeat(70) + "x\n";
        assert_eq!(within_depth(&dashes, 64), None);
        let multiline_flow = "a: [\n".repeat(70);
        assert_eq!(within_depth(&multiline_flow, 64), None);
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let yaml = "a: \"[[[[[[\"\nb: '{{{{'\nc: it's [fine]\n# [[[[[[[[\n";
        assert_eq!(depth(yaml), Some(2));
    }
}
