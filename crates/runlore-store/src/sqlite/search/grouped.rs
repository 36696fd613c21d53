//! The grouped scan, for orders of two or more keys whose first key has few
//! distinct values (`params.lr`, then `metrics.acc DESC`). The ordered scan
//! walks the first key's index, but SQLite must sort a whole group of ties
//! on the later keys before it returns the group's first run: 25,000 runs
//! when four learning rates split 100,000. The grouped scan walks the first
//! key's distinct values in order and fills the page group by group. In a
//! large group it walks the second key's index and keeps the group's runs,
//! so a page costs a few hundred probes however large the group; a small
//! group it sorts.
//!
//! Within a group the order is the set plan's: the later keys (runs that
//! lack one sort last), then the run's internal id in the first key's
//! direction.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use runlore_core::Result;
use runlore_core::filter::OrderKey;
use runlore_core::store::RunQuery;
use rusqlite::types::Value;
use rusqlite::{Connection, Statement};

use super::predicate::{Mode, Sql, expr_sql};
use super::source::{KeySource, has_value, key_source, pushdown};
use super::{PROGRESS_OPS, db_err, direction, order_column, scope};

/// What the grouped scan concluded.
pub enum Grouped {
    /// The page's run keys, complete.
    Page(Vec<i64>),
    /// The first group is small, or a key has no index to walk: the
    /// ordered scan suits the query.
    Ordered,
    /// Out of time, or the page may continue with runs that lack the first
    /// key: only the set plan can answer.
    SetPlan,
}

/// Groups with fewer runs than this are sorted (a millisecond or two);
/// from this size on, walking the second key's index is tried first.
pub const MIN_WALKED_GROUP: i64 = 1_000;
/// The whole grouped scan's work, in SQLite VM instructions, before the
/// set plan takes over: under half of what sorting one group of 25,000
/// runs costs (below). Work rather than time, so that a busy machine, which
/// slows every plan alike, does not tip the choice to the set plan (which
/// costs most of all on such queries).
const BUDGET_OPS: i64 = 500_000;
/// One walk of the second key's index. It is slow only when the filter
/// keeps few of the group's runs; the group is then sorted instead. The
/// walk of the benchmark's page takes about 14,000; sorting its group of
/// 25,000 runs about 1.2 million.
const WALK_OPS: i64 = 100_000;

/// `min_group` is [`MIN_WALKED_GROUP`]; tests lower it to walk small groups.
pub fn grouped_scan(
    conn: &Connection,
    query: &RunQuery,
    want: usize,
    offset: u64,
    min_group: i64,
) -> Result<Grouped> {
    let [first, second, ..] = query.order_by.as_slice() else {
        return Ok(Grouped::Ordered);
    };
    let Some(mut stmts) = Statements::prepare(conn, query, first, second, min_group)? else {
        return Ok(Grouped::Ordered);
    };
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let need = offset.saturating_add(want);
    let budget = Budget(Arc::new(AtomicI64::new(
        BUDGET_OPS / i64::from(PROGRESS_OPS),
    )));
    let all = i64::MAX;
    let mut out: Vec<i64> = Vec::new();
    let mut prev: Option<Value> = None;
    while out.len() < need {
        let found = match &prev {
            None => stmts.first_value.run(conn, &budget, all, &[]),
            Some(p) => stmts
                .next_value
                .run(conn, &budget, all, std::slice::from_ref(p)),
        };
        let value = match found {
            Ok(mut values) => match values.pop() {
                Some(value) => value,
                // Every value is done; runs without the key come next.
                None => return Ok(Grouped::SetPlan),
            },
            Err(e) => return give_up(e),
        };
        let size = match stmts
            .count
            .run(conn, &budget, all, std::slice::from_ref(&value))
        {
            Ok(values) => match values.first() {
                Some(Value::Integer(n)) => *n,
                _ => 0,
            },
            Err(e) => return give_up(e),
        };
        if size < min_group && prev.is_none() {
            return Ok(Grouped::Ordered);
        }
        let left = Value::Integer(i64::try_from(need - out.len()).unwrap_or(i64::MAX));
        let args = [value.clone(), left];
        let walked = if size >= min_group {
            match stmts.walk.run(conn, &budget, WALK_OPS, &args) {
                // Fewer than asked: the group's runs that lack the second
                // key may follow, which only the sort sees.
                Ok(keys) if keys.len() == need - out.len() => Some(keys),
                Ok(_) => None,
                Err(e) if interrupted(&e) && budget.left() => None,
                Err(e) => return give_up(e),
            }
        } else {
            None
        };
        let keys = match walked {
            Some(keys) => keys,
            None => match stmts.sort.run(conn, &budget, all, &args) {
                Ok(keys) => keys,
                Err(e) => return give_up(e),
            },
        };
        out.extend(keys.into_iter().filter_map(|k| match k {
            Value::Integer(k) => Some(k),
            _ => None,
        }));
        prev = Some(value);
    }
    Ok(Grouped::Page(out.split_off(offset.min(out.len()))))
}

fn interrupted(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

fn give_up(e: rusqlite::Error) -> Result<Grouped> {
    if interrupted(&e) {
        Ok(Grouped::SetPlan)
    } else {
        Err(db_err(e))
    }
}

/// VM-instruction ticks (of `PROGRESS_OPS` each) left to the whole scan.
struct Budget(Arc<AtomicI64>);

impl Budget {
    fn left(&self) -> bool {
        self.0.load(Ordering::Relaxed) > 0
    }
}

/// A statement run once per group: its fixed arguments, and the slots set
/// before each run, in order.
struct Repeated<'c> {
    stmt: Statement<'c>,
    args: Vec<Value>,
    slots: Vec<usize>,
}

impl<'c> Repeated<'c> {
    fn new(conn: &'c Connection, text: &str, sql: Sql, slots: Vec<usize>) -> Result<Repeated<'c>> {
        Ok(Repeated {
            stmt: conn.prepare(text).map_err(db_err)?,
            args: sql.args,
            slots,
        })
    }

    /// The first column of every row, interrupted when the scan's budget or
    /// `cap` (VM instructions for this run alone) is spent.
    fn run(
        &mut self,
        conn: &Connection,
        budget: &Budget,
        cap: i64,
        values: &[Value],
    ) -> rusqlite::Result<Vec<Value>> {
        for (&slot, value) in self.slots.iter().zip(values) {
            self.args[slot] = value.clone();
        }
        let left = Arc::clone(&budget.0);
        let mut own = cap / i64::from(PROGRESS_OPS);
        conn.progress_handler(
            PROGRESS_OPS,
            Some(move || {
                own -= 1;
                left.fetch_sub(1, Ordering::Relaxed) <= 1 || own <= 0
            }),
        );
        let rows = self
            .stmt
            .query_map(rusqlite::params_from_iter(self.args.iter()), |r| r.get(0))
            .and_then(|rows| rows.collect());
        conn.progress_handler(0, None::<fn() -> bool>);
        rows
    }
}

struct Statements<'c> {
    /// The first key's first value held by a matching run.
    first_value: Repeated<'c>,
    /// The same after a value (the slot).
    next_value: Repeated<'c>,
    /// How many runs hold a value, counted up to `min_group`.
    count: Repeated<'c>,
    /// A group's first runs (slots: value, limit) along the second key's index.
    walk: Repeated<'c>,
    /// The same by sorting the group.
    sort: Repeated<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(
        conn: &'c Connection,
        query: &RunQuery,
        first: &OrderKey,
        second: &OrderKey,
        min_group: i64,
    ) -> Result<Option<Statements<'c>>> {
        let dir = direction(first.descending);
        let filter = query.filter.as_ref();
        // Conditions every statement but the count shares: scope and filter.
        let matching = |sql: &mut Sql| -> Result<Vec<String>> {
            let mut conditions = scope(sql, query);
            if let Some(filter) = filter {
                conditions.push(expr_sql(sql, filter, Mode::Probe)?);
            }
            Ok(conditions)
        };
        // The first key's values, in order, among matching runs.
        let value_walk = |after: bool| -> Result<Option<(String, Sql, Vec<usize>)>> {
            let mut sql = Sql::default();
            let Some(src) = key_source(&mut sql, &first.field, "g") else {
                return Ok(None);
            };
            let mut conditions = src.conditions.clone();
            conditions.extend(pushdown(&mut sql, filter, &first.field, &src.value)?);
            conditions.extend(matching(&mut sql)?);
            let mut slots = Vec::new();
            if after {
                let (slot, p) = sql.slot();
                let op = if first.descending { "<" } else { ">" };
                conditions.push(format!("{} {op} {p}", src.value));
                slots.push(slot);
            }
            let text = format!(
                "SELECT {v} FROM {} WHERE {} ORDER BY {v} {dir} LIMIT 1",
                src.from,
                conditions.join(" AND "),
                v = src.value
            );
            Ok(Some((text, sql, slots)))
        };
        let Some((first_text, first_sql, _)) = value_walk(false)? else {
            return Ok(None);
        };
        let Some((next_text, next_sql, next_slots)) = value_walk(true)? else {
            return Ok(None);
        };
        let mut sql = Sql::default();
        let Some(src) = key_source(&mut sql, &first.field, "g") else {
            return Ok(None);
        };
        let (slot, v) = sql.slot();
        let count_text = format!(
            "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} AND {} = {v} LIMIT {min_group})",
            src.from,
            src.conditions.join(" AND "),
            src.value
        );
        let count = Repeated::new(conn, &count_text, sql, vec![slot])?;

        // Walk: the second key's index, keeping the group's runs.
        let mut sql = Sql::default();
        let Some(walked) = key_source(&mut sql, &second.field, "k") else {
            return Ok(None);
        };
        let (value_slot, v) = sql.slot();
        let mut conditions = walked.conditions.clone();
        conditions.extend(pushdown(&mut sql, filter, &second.field, &walked.value)?);
        let Some(in_group) = has_value(&mut sql, &first.field, &v) else {
            return Ok(None);
        };
        conditions.push(in_group);
        conditions.extend(matching(&mut sql)?);
        let walk_text = group_query(
            &mut sql,
            &walked,
            conditions,
            format!("{} {}", walked.value, direction(second.descending)),
            &query.order_by[2..],
            &format!("{} {dir}", walked.id),
        );
        let (limit_slot, limit) = sql.slot();
        let walk = Repeated::new(
            conn,
            &format!("{walk_text} LIMIT {limit}"),
            sql,
            vec![value_slot, limit_slot],
        )?;

        // Sort: the group from the first key's index, sorted.
        let mut sql = Sql::default();
        let Some(grouped) = key_source(&mut sql, &first.field, "g") else {
            return Ok(None);
        };
        let (value_slot, v) = sql.slot();
        let mut conditions = grouped.conditions.clone();
        conditions.push(format!("{} = {v}", grouped.value));
        conditions.extend(matching(&mut sql)?);
        let sort_text = group_query(
            &mut sql,
            &grouped,
            conditions,
            String::new(),
            &query.order_by[1..],
            &format!("r.id {dir}"),
        );
        let (limit_slot, limit) = sql.slot();
        let sort = Repeated::new(
            conn,
            &format!("{sort_text} LIMIT {limit}"),
            sql,
            vec![value_slot, limit_slot],
        )?;

        Ok(Some(Statements {
            first_value: Repeated::new(conn, &first_text, first_sql, Vec::new())?,
            next_value: Repeated::new(conn, &next_text, next_sql, next_slots)?,
            count,
            walk,
            sort,
        }))
    }
}

/// `SELECT r.id` from `src` under `conditions`, ordered by `lead` (when not
/// empty), then `keys` (runs lacking one last), then `tie`.
fn group_query(
    sql: &mut Sql,
    src: &KeySource,
    conditions: Vec<String>,
    lead: String,
    keys: &[OrderKey],
    tie: &str,
) -> String {
    let mut joins = String::new();
    let mut order: Vec<String> = Vec::new();
    if !lead.is_empty() {
        order.push(lead);
    }
    for (i, key) in keys.iter().enumerate() {
        let column = order_column(sql, &mut joins, i + 1, &key.field);
        order.push(format!(
            "{column} IS NULL, {column} {}",
            direction(key.descending)
        ));
    }
    order.push(tie.to_owned());
    format!(
        "SELECT r.id FROM {}{joins} WHERE {} ORDER BY {}",
        src.from,
        conditions.join(" AND "),
        order.join(", ")
    )
}
