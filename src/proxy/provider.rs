//! Which provider and client tool a request belongs to, and each provider's error shape.

use bytes::Bytes;
use serde::Serialize;

/// The API a request is for (from host and path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    OpenaiChat,
    OpenaiResponses,
    OpenaiCompletions,
    Openai,
    AnthropicMessages,
    Anthropic,
    Copilot,
    Gemini,
    MistralFim,
    Mistral,
    AwsQ,
    Cursor,
    OpenaiCompatible,
    Unknown,
}

/// How a provider spells an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"error":{"message","type","code"}}`
    Openai,
    /// `{"type":"error","error":{"type","message"}}`
    Anthropic,
    /// `{"error":{"code","message","status"}}`
    Gemini,
    /// `{"__type","message"}` (AWS JSON protocols)
    Aws,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenaiChat => "openai_chat",
            Provider::OpenaiResponses => "openai_responses",
            Provider::OpenaiCompletions => "openai_completions",
            Provider::Openai => "openai",
            Provider::AnthropicMessages => "anthropic_messages",
            Provider::Anthropic => "anthropic",
            Provider::Copilot => "copilot",
            Provider::Gemini => "gemini",
            Provider::MistralFim => "mistral_fim",
            Provider::Mistral => "mistral",
            Provider::AwsQ => "aws_q",
            Provider::Cursor => "cursor",
            Provider::OpenaiCompatible => "openai_compatible",
            Provider::Unknown => "unknown",
        }
    }

    /// A name for messages ("OpenAI", "Anthropic", ...).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::OpenaiChat
            | Provider::OpenaiResponses
            | Provider::OpenaiCompletions
            | Provider::Openai => "OpenAI",
            Provider::AnthropicMessages | Provider::Anthropic => "Anthropic",
            Provider::Copilot => "GitHub Copilot",
            Provider::Gemini => "Google Gemini",
            Provider::MistralFim | Provider::Mistral => "Mistral",
            Provider::AwsQ => "Amazon Q",
            Provider::Cursor => "Cursor",
            Provider::OpenaiCompatible | Provider::Unknown => "the AI provider",
        }
    }

    pub fn error_shape(self) -> ErrorShape {
        match self {
            Provider::AnthropicMessages | Provider::Anthropic => ErrorShape::Anthropic,
            Provider::Gemini => ErrorShape::Gemini,
            Provider::AwsQ => ErrorShape::Aws,
            _ => ErrorShape::Openai,
        }
    }

    /// Identifies the provider from the host and the request path (query excluded).
    pub fn detect(host: &str, path: &str) -> Provider {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let path = path.split('?').next().unwrap_or("");
        let m = |p: &str| crate::policy::host_matches(p, &host);
        let openai_by_path = |fallback: Provider| {
            if path.ends_with("/chat/completions") {
                Provider::OpenaiChat
            } else if path.ends_with("/responses") || path.contains("/responses/") {
                Provider::OpenaiResponses
            } else if path.ends_with("/completions") {
                Provider::OpenaiCompletions
            } else {
                fallback
            }
        };
        if host == "api.openai.com" || host == "chatgpt.com" || m("*.openai.azure.com") {
            return openai_by_path(Provider::Openai);
        }
        if host == "api.anthropic.com" {
            return if path.ends_with("/messages") || path.contains("/messages/") {
                Provider::AnthropicMessages
            } else {
                Provider::Anthropic
            };
        }
        if m("*.githubcopilot.com") || host == "copilot-proxy.githubusercontent.com" {
            return Provider::Copilot;
        }
        if host == "generativelanguage.googleapis.com" || host == "cloudcode-pa.googleapis.com" {
            return Provider::Gemini;
        }
        if host == "api.mistral.ai" || host == "codestral.mistral.ai" {
            return if path.contains("/fim/") {
                Provider::MistralFim
            } else {
                Provider::Mistral
            };
        }
        if m("codewhisperer.*.amazonaws.com") || m("q.*.amazonaws.com") {
            return Provider::AwsQ;
        }
        if m("*.cursor.sh") {
            return Provider::Cursor;
        }
        if [
            "openrouter.ai",
            "api.groq.com",
            "api.deepseek.com",
            "api.x.ai",
        ]
        .contains(&host.as_str())
        {
            return Provider::OpenaiCompatible;
        }
        // Unknown host: guess from the path.
        if path.ends_with("/v1/messages") {
            Provider::AnthropicMessages
        } else if path.contains(":generateContent") || path.contains(":streamGenerateContent") {
            Provider::Gemini
        } else if path.ends_with("/fim/completions") {
            Provider::MistralFim
        } else if path.ends_with("/completions") || path.ends_with("/responses") {
            openai_by_path(Provider::OpenaiCompatible)
        } else {
            Provider::Unknown
        }
    }
}

/// The client tool, from the User-Agent (a short name; the header itself is not recorded).
pub fn detect_tool(user_agent: Option<&str>) -> &'static str {
    let Some(ua) = user_agent else {
        return "unknown";
    };
    let ua = ua.to_ascii_lowercase();
    const TOOLS: &[(&str, &str)] = &[
        ("claude-cli", "claude_code"),
        ("claude-code", "claude_code"),
        ("codex", "codex_cli"),
        ("githubcopilotchat", "copilot_chat"),
        ("copilot", "copilot"),
        ("cursor", "cursor"),
        ("windsurf", "windsurf"),
        ("codeium", "windsurf"),
        ("aider", "aider"),
        ("continue", "continue"),
        ("cline", "cline"),
        ("roo-code", "roo_code"),
        ("zed", "zed"),
        ("gemini-cli", "gemini_cli"),
        ("geminicli", "gemini_cli"),
        ("amazonq", "amazon_q"),
        ("aws-toolkit", "amazon_q"),
        ("aws-sdk", "aws_sdk"),
        ("jetbrains", "jetbrains"),
        ("vscode", "vscode"),
        ("anthropic/python", "anthropic_python"),
        ("anthropic/js", "anthropic_js"),
        ("openai/python", "openai_python"),
        ("openai/js", "openai_js"),
        ("google-genai", "google_genai"),
        ("curl/", "curl"),
        ("python-requests", "python_requests"),
        ("python-httpx", "python_httpx"),
        ("node-fetch", "node"),
        ("undici", "node"),
        ("go-http-client", "go"),
        ("reqwest", "rust"),
        ("hyper", "rust"),
    ];
    TOOLS
        .iter()
        .find(|(needle, _)| ua.contains(needle))
        .map(|(_, name)| *name)
        .unwrap_or("other")
}

/// The client tool, from the host and path (tools with their own backends) and the User-Agent.
/// A host that only one tool talks to wins over a generic User-Agent (an editor, an SDK).
pub fn detect_client(host: &str, path: &str, user_agent: Option<&str>) -> &'static str {
    let by_ua = detect_tool(user_agent);
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let m = |p: &str| crate::policy::host_matches(p, &host);
    let path = path.split('?').next().unwrap_or("");
    let by_host = if m("*.githubcopilot.com") || host == "copilot-proxy.githubusercontent.com" {
        Some("copilot")
    } else if m("*.cursor.sh") {
        Some("cursor")
    } else if host == "chatgpt.com" && path.starts_with("/backend-api/codex") {
        Some("codex_cli")
    } else if m("codewhisperer.*.amazonaws.com") || m("q.*.amazonaws.com") {
        Some("amazon_q")
    } else if host == "cloudcode-pa.googleapis.com" && by_ua != "gemini_cli" {
        Some("gemini_code_assist")
    } else {
        None
    };
    match by_host {
        // Copilot Chat is the more specific answer on Copilot's hosts.
        Some("copilot") if by_ua == "copilot_chat" => by_ua,
        Some(t) => t,
        None => by_ua,
    }
}

/// Builds an error body in the provider's own shape. `code` is a short machine-readable reason.
pub fn error_body(provider: Provider, status: u16, code: &str, message: &str) -> Bytes {
    let v = match provider.error_shape() {
        ErrorShape::Openai => serde_json::json!({
            "error": {
                "message": message,
                "type": openai_type(status),
                "code": code,
            }
        }),
        ErrorShape::Anthropic => serde_json::json!({
            "type": "error",
            "error": {
                "type": anthropic_type(status),
                "message": message,
            }
        }),
        ErrorShape::Gemini => serde_json::json!({
            "error": {
                "code": status,
                "message": message,
                "status": gemini_status(status),
            }
        }),
        ErrorShape::Aws => serde_json::json!({
            "__type": aws_type(status),
            "message": message,
        }),
    };
    Bytes::from(serde_json::to_vec(&v).expect("json values serialise"))
}

fn openai_type(status: u16) -> &'static str {
    match status {
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

fn anthropic_type(status: u16) -> &'static str {
    match status {
        413 => "request_too_large",
        403 => "permission_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    }
}

fn gemini_status(status: u16) -> &'static str {
    match status {
        403 => "PERMISSION_DENIED",
        400..=499 => "INVALID_ARGUMENT",
        502..=504 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

fn aws_type(status: u16) -> &'static str {
    match status {
        403 => "AccessDeniedException",
        400..=499 => "ValidationException",
        _ => "InternalServerException",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers() {
        assert_eq!(
            Provider::detect("api.openai.com", "/v1/chat/completions"),
            Provider::OpenaiChat
        );
        assert_eq!(
            Provider::detect("api.openai.com", "/v1/responses"),
            Provider::OpenaiResponses
        );
        assert_eq!(
            Provider::detect("api.openai.com", "/v1/completions"),
            Provider::OpenaiCompletions
        );
        assert_eq!(
            Provider::detect("api.anthropic.com", "/v1/messages?beta=true"),
            Provider::AnthropicMessages
        );
        assert_eq!(
            Provider::detect("api.individual.githubcopilot.com", "/chat/completions"),
            Provider::Copilot
        );
        assert_eq!(
            Provider::detect(
                "generativelanguage.googleapis.com",
                "/v1beta/models/gemini-2.0-flash:generateContent?key=x"
            ),
            Provider::Gemini
        );
        assert_eq!(
            Provider::detect("codestral.mistral.ai", "/v1/fim/completions"),
            Provider::MistralFim
        );
        assert_eq!(
            Provider::detect("codewhisperer.us-east-1.amazonaws.com", "/"),
            Provider::AwsQ
        );
        assert_eq!(Provider::detect("example.com", "/x"), Provider::Unknown);
    }

    #[test]
    fn tools() {
        assert_eq!(
            detect_tool(Some("claude-cli/1.0.3 (external, cli)")),
            "claude_code"
        );
        assert_eq!(detect_tool(Some("OpenAI/Python 1.50.0")), "openai_python");
        assert_eq!(detect_tool(Some("curl/8.5.0")), "curl");
        assert_eq!(detect_tool(None), "unknown");
        assert_eq!(
            detect_client(
                "api.individual.githubcopilot.com",
                "/chat/completions",
                Some("vscode/1.95")
            ),
            "copilot"
        );
        assert_eq!(
            detect_client(
                "api.githubcopilot.com",
                "/chat/completions",
                Some("GitHubCopilotChat/0.22")
            ),
            "copilot_chat"
        );
        assert_eq!(
            detect_client(
                "api2.cursor.sh",
                "/aiserver.v1.ChatService/x",
                Some("connect-es/1")
            ),
            "cursor"
        );
        assert_eq!(
            detect_client("chatgpt.com", "/backend-api/codex/responses", None),
            "codex_cli"
        );
        assert_eq!(
            detect_client("api.openai.com", "/v1/responses", Some("codex_cli_rs/0.30")),
            "codex_cli"
        );
        assert_eq!(
            detect_client("api.anthropic.com", "/v1/messages", Some("claude-cli/1.0")),
            "claude_code"
        );
        assert_eq!(
            detect_client(
                "api.openai.com",
                "/v1/chat/completions",
                Some("OpenAI/Python 1.5")
            ),
            "openai_python"
        );
    }

    #[test]
    fn shapes() {
        let v: serde_json::Value =
            serde_json::from_slice(&error_body(Provider::OpenaiChat, 400, "c", "m")).unwrap();
        assert_eq!(v["error"]["message"], "m");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "c");
        let v: serde_json::Value =
            serde_json::from_slice(&error_body(Provider::AnthropicMessages, 400, "c", "m"))
                .unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["message"], "m");
        let v: serde_json::Value =
            serde_json::from_slice(&error_body(Provider::Gemini, 400, "c", "m")).unwrap();
        assert_eq!(v["error"]["code"], 400);
        assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(v["error"]["message"], "m");
    }
}
