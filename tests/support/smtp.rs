//! A small SMTP server for the tests: enough of RFC 5321 for lettre's real SMTP transport
//! (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), recording every message it
//! is handed. It can refuse the first few messages with a temporary failure, as a mail
//! server that is briefly unavailable would.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// How long a test waits for mail before it fails: generous, since the machine is shared.
pub const MAIL_TIMEOUT: Duration = Duration::from_secs(20);

/// A message as the SMTP server received it, with its MIME structure taken apart.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The envelope recipients (RCPT TO).
    pub recipients: Vec<String>,
    /// The message as sent, dot-unstuffed.
    pub raw: String,
    /// The top-level headers, unfolded, by lower-case name.
    headers: HashMap<String, String>,
    /// The decoded text/plain part.
    pub text: String,
    /// The decoded text/html part.
    pub html: String,
}

impl Mail {
    fn parse(recipients: Vec<String>, raw: String) -> Self {
        let (headers, body) = split_headers(&raw);
        let mut mail = Self {
            recipients,
            raw: raw.clone(),
            headers: headers.clone(),
            text: String::new(),
            html: String::new(),
        };
        let content_type = headers.get("content-type").cloned().unwrap_or_default();
        match boundary_of(&content_type) {
            Some(boundary) => {
                for part in parts(body, &boundary) {
                    let (part_headers, part_body) = split_headers(part);
                    let part_type = part_headers
                        .get("content-type")
                        .map(|t| t.to_ascii_lowercase())
                        .unwrap_or_default();
                    let decoded = decode_body(&part_headers, part_body);
                    if part_type.starts_with("text/plain") {
                        mail.text = decoded;
                    } else if part_type.starts_with("text/html") {
                        mail.html = decoded;
                    }
                }
            }
            None => mail.text = decode_body(&headers, body),
        }
        mail
    }

    /// A message read from elsewhere (an .eml file), without an envelope.
    pub fn parse_file(raw: &str) -> Self {
        Self::parse(Vec::new(), raw.to_owned())
    }

    /// A top-level header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn subject(&self) -> &str {
        self.header("subject").unwrap_or("")
    }

    pub fn message_id(&self) -> &str {
        self.header("message-id")
            .unwrap_or_else(|| panic!("a message without a Message-ID:\n{}", self.raw))
    }

    /// Whether the message is addressed to `email`, in the envelope and the To header.
    pub fn is_to(&self, email: &str) -> bool {
        self.recipients.iter().any(|r| r == email)
            && self.header("to").is_some_and(|to| to.contains(email))
    }
}

#[derive(Default)]
struct Inbox {
    /// Messages accepted, in order.
    accepted: Vec<Mail>,
    /// Every message handed over with DATA, accepted or refused, in order.
    attempts: Vec<Mail>,
    /// How many more messages to refuse with 451.
    refuse_next: usize,
}

/// A running test SMTP server on 127.0.0.1.
pub struct SmtpServer {
    port: u16,
    inbox: Arc<Mutex<Inbox>>,
    accepted: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// A server that accepts every message.
    pub async fn start() -> Self {
        Self::refusing_first(0).await
    }

    /// A server that refuses the first `count` messages with a temporary failure (451),
    /// then accepts the rest.
    pub async fn refusing_first(count: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP listener");
        let port = listener.local_addr().expect("a local address").port();
        let inbox = Arc::new(Mutex::new(Inbox {
            refuse_next: count,
            ..Inbox::default()
        }));
        let (notify, accepted) = watch::channel(0);
        let notify = Arc::new(notify);
        let task = tokio::spawn({
            let inbox = inbox.clone();
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve(stream, inbox.clone(), notify.clone()));
                }
            }
        });
        Self {
            port,
            inbox,
            accepted,
            task,
        }
    }

    /// The URL to give the shop as `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.inbox.lock().expect("inbox").accepted.clone()
    }

    /// Every message handed over so far, refused ones included, in order.
    pub fn attempts(&self) -> Vec<Mail> {
        self.inbox.lock().expect("inbox").attempts.clone()
    }

    /// Waits until at least `count` messages were accepted, and answers all of them;
    /// fails the test if they do not arrive within `timeout`.
    pub async fn wait_for_within(&self, count: usize, timeout: Duration) -> Vec<Mail> {
        let mut accepted = self.accepted.clone();
        let arrived = tokio::time::timeout(timeout, accepted.wait_for(|n| *n >= count)).await;
        if !matches!(arrived, Ok(Ok(_))) {
            let messages = self.messages();
            panic!(
                "expected {count} messages within {timeout:?}, got {}: {:#?}",
                messages.len(),
                messages
                    .iter()
                    .map(|m| (m.recipients.clone(), m.subject().to_owned()))
                    .collect::<Vec<_>>()
            );
        }
        self.messages()
    }

    /// [`Self::wait_for_within`] with the default, generous timeout.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        self.wait_for_within(count, MAIL_TIMEOUT).await
    }
}

/// One SMTP session.
async fn serve(stream: TcpStream, inbox: Arc<Mutex<Inbox>>, notify: Arc<watch::Sender<usize>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut reply = async |text: &str| write.write_all(text.as_bytes()).await.is_ok();
    if !reply("220 shop-test-smtp ESMTP ready\r\n").await {
        return;
    }
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-shop-test-smtp\r\n250 8BITMIME\r\n",
            "HELO" => "250 shop-test-smtp\r\n",
            "MAIL" => {
                recipients.clear();
                "250 OK\r\n"
            }
            "RCPT" => {
                recipients.push(address_in(&command));
                "250 OK\r\n"
            }
            "RSET" => {
                recipients.clear();
                "250 OK\r\n"
            }
            "NOOP" => "250 OK\r\n",
            "QUIT" => {
                reply("221 bye\r\n").await;
                return;
            }
            "DATA" => {
                if !reply("354 end with <CRLF>.<CRLF>\r\n").await {
                    return;
                }
                let Some(raw) = read_data(&mut lines).await else {
                    return;
                };
                let mail = Mail::parse(std::mem::take(&mut recipients), raw);
                let refused = {
                    let mut inbox = inbox.lock().expect("inbox");
                    inbox.attempts.push(mail.clone());
                    if inbox.refuse_next > 0 {
                        inbox.refuse_next -= 1;
                        true
                    } else {
                        inbox.accepted.push(mail);
                        notify.send_replace(inbox.accepted.len());
                        false
                    }
                };
                if refused {
                    "451 4.3.0 try again later\r\n"
                } else {
                    "250 OK queued\r\n"
                }
            }
            _ => "502 5.5.2 command not implemented\r\n",
        };
        if !reply(answer).await {
            return;
        }
    }
}

/// The message after DATA, up to the line holding only a dot, dot-unstuffed.
async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<String> {
    let mut raw = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            return Some(raw);
        }
        raw.push_str(content.strip_prefix('.').unwrap_or(content));
        raw.push_str("\r\n");
    }
}

/// The address in `RCPT TO:<address>`.
fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

/// The headers (unfolded, by lower-case name) and the body of a message or MIME part.
fn split_headers(message: &str) -> (HashMap<String, String>, &str) {
    let (head, body) = message.split_once("\r\n\r\n").unwrap_or((message, ""));
    let mut headers = HashMap::new();
    let mut current: Option<(String, String)> = None;
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.as_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            headers.insert(name, value);
        }
        if let Some((name, value)) = line.split_once(':') {
            current = Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if let Some((name, value)) = current {
        headers.insert(name, value);
    }
    (headers, body)
}

/// The `boundary` parameter of a multipart Content-Type.
fn boundary_of(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    content_type.split(';').find_map(|parameter| {
        let (name, value) = parameter.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_owned())
    })
}

/// The parts of a multipart body.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    body.split(delimiter.as_str())
        .skip(1)
        .take_while(|part| !part.starts_with("--"))
        .map(|part| part.strip_prefix("\r\n").unwrap_or(part))
        .map(|part| part.strip_suffix("\r\n").unwrap_or(part))
        .collect()
}

/// A body decoded according to its Content-Transfer-Encoding.
fn decode_body(headers: &HashMap<String, String>, body: &str) -> String {
    let encoding = headers
        .get("content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            let bytes = STANDARD.decode(compact).expect("a base64 body");
            String::from_utf8(bytes).expect("a UTF-8 body")
        }
        _ => body.to_owned(),
    }
}

/// Decodes quoted-printable (RFC 2045): `=XX` escapes and `=` soft line breaks.
pub fn decode_quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("quoted-printable of UTF-8")
}

/// `html` with its character references decoded, to compare against the text it shows.
pub fn unescape_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let decoded = after.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = &after[1..end];
            let character = match entity {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((character, end + 1))
        });
        match decoded {
            Some((character, length)) => {
                out.push(character);
                rest = &after[length..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
