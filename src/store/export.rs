//! Read access for the Parquet export ([`crate::export`]): it walks tables
//! in primary-key order inside one read transaction.

use super::{Store, StoreError, post_key, sql_err};

impl Store {
    /// Runs `f` inside one read transaction (every query in it sees the
    /// same snapshot), giving it the connection and an error mapper.
    pub fn with_snapshot<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &dyn Fn(rusqlite::Error) -> StoreError) -> Result<T, E>,
    ) -> Result<T, E> {
        let err = sql_err(self.path.clone());
        let tx = self.conn.unchecked_transaction().map_err(&err)?;
        let out = f(&tx, &err)?;
        tx.finish().map_err(&err)?;
        Ok(out)
    }
}

impl Store {
    /// The (site, Id) of every question.
    pub fn question_keys(&self) -> Result<std::collections::HashSet<crate::PostKey>, StoreError> {
        let err = sql_err(self.path.clone());
        let mut stmt = self
            .conn
            .prepare("SELECT site, id FROM questions")
            .map_err(&err)?;
        let rows = stmt.query_map([], |r| post_key(r, 0)).map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }
}
