//! An OpenAI-compatible chat-completions client (`POST {AI_BASE_URL}/chat/completions`), asked
//! for JSON objectives fitted to the draft. Its answer is untrusted: the rules check every
//! objective before anyone sees it.

use super::{Provider, ProviderError, SuggestionRequest};
use serde_json::{json, Value};
use std::time::Duration;

/// The longest the wizard waits for an external provider.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3);

pub struct OpenAi {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

/// Without the API key.
impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

const SYSTEM_PROMPT: &str = "You suggest OKRs for a company that is onboarding to an OKR platform. \
Answer only with a JSON object {\"objectives\": [...]}. Each objective: {\"title\" (5-200 characters), \
\"description\" (optional, at most 1000), \"key_results\": 2 or 3 of {\"title\" (5-200), \"metric_type\" \
(number|percentage|currency|boolean), \"baseline\" (number), \"target\" (number, different from baseline; \
percentages within 0-100; boolean: baseline 0 and target 1), \"unit\" (optional, at most 20)}}. \
Write in the language given by `language` (es = Spanish, en = English). Fit the industry, business goals, \
OKR maturity and company size given.";

impl OpenAi {
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        model: String,
        timeout: Duration,
    ) -> Result<OpenAi, String> {
        let timeout = timeout.min(MAX_TIMEOUT);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the AI client: {e}"))?;
        Ok(OpenAi {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            model,
            timeout,
        })
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &'static str {
        "ai"
    }

    async fn objectives(&self, req: &SuggestionRequest) -> Result<Vec<Value>, ProviderError> {
        let body = json!({
            "model": self.model,
            "temperature": 0.3,
            "response_format": { "type": "json_object" },
            "messages": [
                { "role": "system", "content": SYSTEM_PROMPT },
                { "role": "user", "content": serde_json::to_string(req).unwrap_or_default() },
            ],
        });
        let mut request = self
            .client
            .post(format!("{}/chat/completions", self.base_url))
            .json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let send = async {
            let response = request.send().await.map_err(|e| {
                if e.is_timeout() {
                    ProviderError::Timeout
                } else {
                    ProviderError::Http(e.to_string())
                }
            })?;
            if !response.status().is_success() {
                return Err(ProviderError::Http(format!("status {}", response.status())));
            }
            response.json::<Value>().await.map_err(|e| {
                if e.is_timeout() {
                    ProviderError::Timeout
                } else {
                    ProviderError::BadAnswer(e.to_string())
                }
            })
        };
        // The client's timeout covers each phase; this bounds the whole exchange.
        let answer = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| ProviderError::Timeout)??;
        let content = answer["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| ProviderError::BadAnswer("no choices[0].message.content".into()))?;
        let parsed: Value = serde_json::from_str(content)
            .map_err(|e| ProviderError::BadAnswer(format!("content is not JSON: {e}")))?;
        match parsed.get("objectives").and_then(Value::as_array) {
            Some(list) => Ok(list.iter().take(req.count).cloned().collect()),
            None => Err(ProviderError::BadAnswer("no `objectives` array".into())),
        }
    }
}
