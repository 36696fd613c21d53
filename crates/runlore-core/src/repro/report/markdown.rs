//! Putting text the report does not control (names, tags, params, paths,
//! commands, anything read from a run's records) into Markdown so that no
//! renderer turns it into markup: no HTML (`<script>`, `<img onerror>`), no
//! links or images (`![x](http://evil/)` would make a viewer fetch a URL),
//! no emphasis, no table cell or code span it could break out of.
//!
//! Three forms, by where the text goes:
//! - [`text`]: one line, with HTML-significant characters written as
//!   entities (`&lt;`) and Markdown-active ones backslash-escaped;
//! - [`code`]: a code span when the text holds nothing a code span could
//!   leak (backticks, `<`, `>`, `&`, `|`), otherwise [`text`];
//! - [`fenced`]: a code block whose fence is longer than any run of
//!   backticks in it, so no line of the text can close it; CommonMark shows
//!   a code block's content as literal text.

/// Longest piece of one-line text a report cell or item shows.
const MAX_LINE_CHARS: usize = 300;

/// The first line of `raw`, at most 300 characters, with tabs and other
/// control characters made harmless (a tab could start an indented block).
fn first_line(raw: &str) -> String {
    raw.split(['\n', '\r'])
        .next()
        .unwrap_or("")
        .chars()
        .take(MAX_LINE_CHARS)
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// `raw` as inert inline Markdown (see the module comment).
pub fn text(raw: &str) -> String {
    let line = first_line(raw);
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| chars.get(j));
        let after = chars.get(i + 1);
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // `[` and `]` make links and images (`![`), `*` `_` `~` emphasis
            // and strike-through, `` ` `` code, `|` table cells, `\` escapes.
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // Inside a word (`val_loss`) `_` cannot emphasise anything, and
            // left alone it keeps the raw report readable.
            '_' if before.is_some_and(|b| b.is_alphanumeric())
                && after.is_some_and(|a| a.is_alphanumeric()) =>
            {
                out.push('_');
            }
            '_' => out.push_str("\\_"),
            // Text that starts a list item could open a heading (`# x`), a
            // nested list (`- x`, `1. x`) or underline a heading (`===`).
            '#' | '+' | '-' if i == 0 && after.is_none_or(|a| *a == ' ') => {
                out.push('\\');
                out.push(c);
            }
            '=' if i == 0 && chars.iter().all(|c| matches!(c, '=' | ' ')) => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')'
                if i > 0
                    && chars[..i].iter().all(char::is_ascii_digit)
                    && after.is_none_or(|a| *a == ' ') =>
            {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `raw` in a code span when that is safe, else as [`text`].
pub fn code(raw: &str) -> String {
    let line = first_line(raw);
    let inert = !line.is_empty()
        && line == raw
        && !line.contains(['`', '<', '>', '&', '|'])
        && !line.starts_with(' ')
        && !line.ends_with(' ');
    if inert {
        format!("`{line}`")
    } else {
        text(raw)
    }
}

/// `body` as a fenced code block with the given info string (`sh`, `yaml`).
pub fn fenced(info: &str, body: &str) -> String {
    let longest_run = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let body = body.strip_suffix('\n').unwrap_or(body);
    format!("{fence}{info}\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_markdown_in_text_are_inert() {
        assert_eq!(
            text(r#"<script>alert(1)</script> & <img src=x onerror="alert(2)">"#),
            r#"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror="alert(2)"&gt;"#
        );
        assert_eq!(text("![x](http://evil/)"), r"!\[x\](http://evil/)");
        assert_eq!(
            text("[a][b] *b* __u__ ~~s~~ `c` a|b \\"),
            r"\[a\]\[b\] \*b\* \_\_u\_\_ \~\~s\~\~ \`c\` a\|b \\"
        );
        assert_eq!(text("val_loss lr_"), r"val_loss lr\_");
        assert_eq!(text("# h"), r"\# h");
        assert_eq!(text("12. x"), r"12\. x");
        assert_eq!(text("0.01"), "0.01", "numbers stay readable");
        assert_eq!(text("-1"), "-1");
        assert_eq!(text("- x"), r"\- x");
        assert_eq!(text("a\tb\u{1b}[31m"), "a b\u{fffd}\\[31m");
        assert_eq!(text("first\nsecond"), "first");
        assert_eq!(text("first\r<b>"), "first");
        assert_eq!(text("&lt;"), "&amp;lt;", "an entity shows as typed");
    }

    #[test]
    fn code_spans_only_hold_what_cannot_leak() {
        assert_eq!(code("/home/ada/proj"), "`/home/ada/proj`");
        assert_eq!(code("data/<d>.csv"), "data/&lt;d&gt;.csv");
        assert_eq!(
            code("a` <img src=x onerror=alert(1)> `"),
            r"a\` &lt;img src=x onerror=alert(1)&gt; \`"
        );
        assert_eq!(code("two\nlines"), "two");
        assert_eq!(code(""), "");
    }

    #[test]
    fn no_line_of_a_fenced_block_can_close_it() {
        assert_eq!(
            fenced("sh", "python train.py\n"),
            "```sh\npython train.py\n```"
        );
        let hostile = "x\n```\n<script>alert(1)</script>\n`````";
        let block = fenced("sh", hostile);
        assert!(block.starts_with("``````sh\n"), "{block}");
        assert!(block.ends_with("\n``````"), "{block}");
    }
}
