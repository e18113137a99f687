//! Alert bodies: a generic JSON document, or a Slack-compatible message.

use serde_json::json;

use crate::model::PageView;

/// The body announcing new negative feedback, in the hook's `format`.
pub fn feedback(format: &str, site: &str, views: &[PageView]) -> String {
    if format == "slack" {
        let mut text =
            format!("*{}* new unhappy answer{} on *{site}*", views.len(), if views.len() == 1 { "" } else { "s" });
        for view in views {
            let lcp = view.lcp_ms.map_or("–".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            let load = view.load_ms.map_or("left before load".to_string(), |ms| format!("{:.2} s", ms / 1000.0));
            text.push_str(&format!(
                "\n• {} — “{}” (LCP {lcp}, load {load}, {} on {})",
                view.url,
                view.feedback_comment.as_deref().unwrap_or_default(),
                view.device.as_deref().unwrap_or("unknown device"),
                view.effective_type.as_deref().unwrap_or("unknown network"),
            ));
        }
        return json!({ "text": text }).to_string();
    }
    json!({ "event": "negative_feedback", "site": site, "feedback": views }).to_string()
}
