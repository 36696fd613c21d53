//! Following page cursors until enough items are collected.

use std::future::Future;

use runlore_core::Page;

/// Fetches pages (`fetch(cursor)`) until `limit` items are in hand or the
/// pages run out; the flag says whether more items exist past `limit`.
pub async fn collect<T, F, Fut>(limit: usize, mut fetch: F) -> runlore_core::Result<(Vec<T>, bool)>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = runlore_core::Result<Page<T>>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    // Bounded: each page adds at least one item or ends the loop.
    loop {
        let page = fetch(cursor.take()).await?;
        let empty = page.items.is_empty();
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if items.len() < limit && !empty => cursor = Some(next),
            Some(_) => {
                items.truncate(limit);
                return Ok((items, true));
            }
            None => {
                let more = items.len() > limit;
                items.truncate(limit);
                return Ok((items, more));
            }
        }
    }
}
