//! The ClickHouse HTTP interface: statements, JSONEachRow inserts and
//! streamed JSONEachRow results. Works with every ClickHouse release that
//! has the HTTP interface (checked on 18.16 and current ones).

use std::time::Duration;

use crate::error::{AppError, Result};

/// Longest wait for ClickHouse to answer one request (a statement, an
/// insert, a query read whole), and longest silence within any answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one ClickHouse server.
#[derive(Clone)]
pub struct ClickHouse {
    client: reqwest::Client,
    url: String,
}

impl ClickHouse {
    /// A client of the server at `url` (`http://host:8123`).
    pub fn new(url: &str) -> Result<ClickHouse> {
        // No total deadline on the client: an export is read as fast as its
        // analyst reads it, for as long as that takes; a silent answer is
        // cut after REQUEST_TIMEOUT. The others get a total deadline each.
        let client = reqwest::Client::builder()
            .read_timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(ClickHouse { client, url: url.trim_end_matches('/').to_string() })
    }

    /// Sends `body` with `query` in the URL; the answer when it is 2xx. A
    /// `whole` answer must arrive within [`REQUEST_TIMEOUT`].
    async fn send(
        &self,
        query: Option<&str>,
        body: impl Into<reqwest::Body>,
        whole: bool,
    ) -> Result<reqwest::Response> {
        let mut request = self
            .client
            .post(&self.url)
            // 64-bit integers as JSON numbers, not strings.
            .query(&[("output_format_json_quote_64bit_integers", "0")]);
        if let Some(query) = query {
            request = request.query(&[("query", query)]);
        }
        if whole {
            request = request.timeout(REQUEST_TIMEOUT);
        }
        let response = request.body(body).send().await.map_err(|e| unavailable(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let message = format!("ClickHouse answered {status}: {}", text.lines().next().unwrap_or_default());
        Err(if status.is_server_error() && !text.contains("Syntax error") {
            AppError::Unavailable(message)
        } else {
            AppError::Internal(message)
        })
    }

    /// Runs a statement; its whole answer.
    pub async fn execute(&self, sql: &str) -> Result<String> {
        self.send(None, sql.to_string(), true).await?.text().await.map_err(|e| unavailable(&e))
    }

    /// Inserts `rows` (one JSON object per line) into `table`.
    pub async fn insert(&self, table: &str, rows: String) -> Result<()> {
        self.send(Some(&format!("INSERT INTO {table} FORMAT JSONEachRow")), rows, true).await.map(drop)
    }

    /// Inserts `rows` (in `FORMAT RowBinary`, each value in its column's
    /// type, in the table's column order) into `table`.
    pub async fn insert_binary(&self, table: &str, rows: Vec<u8>) -> Result<()> {
        self.send(Some(&format!("INSERT INTO {table} FORMAT RowBinary")), rows, true).await.map(drop)
    }

    /// Runs a `SELECT ... FORMAT JSONEachRow`; its rows as they arrive.
    pub async fn stream(&self, sql: &str) -> Result<RowStream> {
        Ok(RowStream { response: self.send(None, sql.to_string(), true).await?, pending: Vec::new() })
    }

    /// Runs a `SELECT` whose answer is read as bytes (`FORMAT RowBinary`),
    /// as slowly as its reader takes it: no total deadline, only one on
    /// silence.
    pub async fn answer(&self, sql: &str) -> Result<Answer> {
        Ok(Answer { response: self.send(None, sql.to_string(), false).await? })
    }

    /// Every row of a `SELECT ... FORMAT JSONEachRow`.
    pub async fn rows(&self, sql: &str) -> Result<Vec<serde_json::Value>> {
        let mut stream = self.stream(sql).await?;
        let mut rows = Vec::new();
        while let Some(mut more) = stream.next_rows().await? {
            rows.append(&mut more);
        }
        Ok(rows)
    }
}

/// An answer read as bytes, as the network delivers them.
pub struct Answer {
    response: reqwest::Response,
}

impl Answer {
    /// Appends the next part of the answer to `buffer`; `false` at its end.
    pub async fn append_to(&mut self, buffer: &mut Vec<u8>) -> Result<bool> {
        match self.response.chunk().await.map_err(|e| unavailable(&e))? {
            Some(chunk) => {
                buffer.extend_from_slice(&chunk);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// The rows of a JSONEachRow answer, read as the network delivers them.
pub struct RowStream {
    response: reqwest::Response,
    pending: Vec<u8>,
}

impl RowStream {
    /// The rows completed by the next part of the answer; `None` at its end.
    pub async fn next_rows(&mut self) -> Result<Option<Vec<serde_json::Value>>> {
        loop {
            let Some(chunk) = self.response.chunk().await.map_err(|e| unavailable(&e))? else {
                return match self.pending.iter().all(u8::is_ascii_whitespace) {
                    true => Ok(None),
                    false => Err(AppError::Unavailable("ClickHouse answer cut short".into())),
                };
            };
            self.pending.extend_from_slice(&chunk);
            let complete = self.pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if complete == 0 {
                continue;
            }
            let rows = self.pending[..complete]
                .split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .map(|line| {
                    serde_json::from_slice(line)
                        .map_err(|e| AppError::Internal(format!("unreadable ClickHouse row: {e}")))
                })
                .collect::<Result<Vec<_>>>()?;
            self.pending.drain(..complete);
            return Ok(Some(rows));
        }
    }
}

fn unavailable(error: &reqwest::Error) -> AppError {
    AppError::Unavailable(format!("ClickHouse unreachable: {error}"))
}

/// `text` as a ClickHouse string literal.
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('\'');
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '\'' => quoted.push_str("\\'"),
            '\0' => quoted.push_str("\\0"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_escape_what_would_end_the_literal() {
        assert_eq!(quote("/cart"), "'/cart'");
        assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote("x' OR 1=1 --"), "'x\\' OR 1=1 --'");
    }
}
