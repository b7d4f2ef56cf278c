//! A small HTTP service bound to one lab host's address, for health-check tests.
//!
//! What it answers is read from a file on every request, so a test, or a playbook step on
//! the host (the file lives in the host's `/srv`), can make it healthy, failing, redirecting
//! or hung at any moment. The file holds answers separated by whitespace, one per request in
//! order, the last one repeating:
//!
//! - a status code (`200`, `500`, `301` …): answered with a short body, `ok` for 2xx;
//!   a 3xx redirects to `/login`;
//! - `hang`: the request is read and never answered;
//! - `cycle` as the first word repeats the whole list instead of its last answer, for a
//!   service that flaps (`cycle 200 500`).
//!
//! A missing or empty file answers `200`. The count of requests starts again whenever the
//! file's text changes, so writing `500 500 200` means "fail twice from now, then recover".

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How often idle threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// The longest request head read; a health check sends a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A running service; dropping it stops it and closes every connection, hung ones too.
pub struct HttpService {
    address: SocketAddr,
    shared: Arc<Shared>,
    accepter: Option<JoinHandle<()>>,
}

struct Shared {
    answers: PathBuf,
    stop: AtomicBool,
    requests: AtomicUsize,
    /// The answer file's text when the count last started, and the count since.
    position: Mutex<(String, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Status(u16),
    Hang,
}

impl HttpService {
    /// Listens on `ip` at `port` (0 for a free one), answering as the file `answers` says.
    pub fn start(ip: IpAddr, port: u16, answers: PathBuf) -> io::Result<HttpService> {
        let listener = TcpListener::bind(SocketAddr::new(ip, port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            answers,
            stop: AtomicBool::new(false),
            requests: AtomicUsize::new(0),
            position: Mutex::new((String::new(), 0)),
        });
        let accepter = {
            let shared = shared.clone();
            thread::spawn(move || accept(&listener, &shared))
        };
        Ok(HttpService {
            address,
            shared,
            accepter: Some(accepter),
        })
    }

    /// Where it listens, as the host sees it.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// How many requests it has read so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for HttpService {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                connections.push(thread::spawn(move || {
                    let _ = serve(stream, &shared);
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(_) => thread::sleep(POLL),
        }
        connections.retain(|c: &JoinHandle<()>| !c.is_finished());
    }
    for connection in connections {
        let _ = connection.join();
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    if !read_head(&mut stream, shared)? {
        return Ok(());
    }
    shared.requests.fetch_add(1, Ordering::SeqCst);
    match next_answer(shared) {
        Answer::Hang => {
            while !shared.stop.load(Ordering::SeqCst) {
                thread::sleep(POLL);
            }
            Ok(())
        }
        Answer::Status(code) => {
            let body = match code {
                200..=299 => "ok\n".to_string(),
                _ => format!("status {code} from the lab service\n"),
            };
            let location = if (300..400).contains(&code) {
                "Location: /login\r\n"
            } else {
                ""
            };
            write!(
                stream,
                "HTTP/1.1 {code} Lab\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 {location}Connection: close\r\n\r\n{body}",
                body.len()
            )?;
            stream.flush()
        }
    }
}

/// Reads up to the blank line that ends a request head; false when the client left first
/// or the service is stopping.
fn read_head(stream: &mut TcpStream, shared: &Shared) -> io::Result<bool> {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if shared.stop.load(Ordering::SeqCst) || head.len() > MAX_HEAD {
            return Ok(false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The answer for the request just read, counting from the file's last change.
fn next_answer(shared: &Shared) -> Answer {
    let text = std::fs::read_to_string(&shared.answers).unwrap_or_default();
    let mut position = shared.position.lock().unwrap_or_else(|p| p.into_inner());
    if position.0 != text {
        *position = (text.clone(), 0);
    }
    let n = position.1;
    position.1 += 1;
    pick(&text, n)
}

/// The `n`th answer (from 0) of an answer file's text.
fn pick(text: &str, n: usize) -> Answer {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let cycle = words.first() == Some(&"cycle");
    if cycle {
        words.remove(0);
    }
    let word = match words.len() {
        0 => return Answer::Status(200),
        len if cycle => words[n % len],
        len => words[n.min(len - 1)],
    };
    match word {
        "hang" => Answer::Hang,
        code => Answer::Status(code.parse().unwrap_or(500)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_answer_repeats_unless_the_list_cycles() {
        let answers: Vec<Answer> = (0..5).map(|n| pick("500 500 200", n)).collect();
        assert_eq!(
            answers,
            [500, 500, 200, 200, 200].map(Answer::Status).to_vec()
        );
        let flapping: Vec<Answer> = (0..4).map(|n| pick("cycle 200 500", n)).collect();
        assert_eq!(flapping, [200, 500, 200, 500].map(Answer::Status).to_vec());
        assert_eq!(pick("", 3), Answer::Status(200));
        assert_eq!(pick("200 hang", 1), Answer::Hang);
    }

    #[test]
    fn answers_over_http_and_starts_counting_again_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("answers");
        std::fs::write(&file, "503 200").unwrap();
        let service = HttpService::start("127.0.0.1".parse().unwrap(), 0, file.clone()).unwrap();
        let get = || {
            let mut stream = TcpStream::connect(service.address()).unwrap();
            stream
                .write_all(b"GET /up HTTP/1.1\r\nHost: lab\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            response
        };
        assert!(get().starts_with("HTTP/1.1 503 "));
        assert!(get().starts_with("HTTP/1.1 200 "));
        assert!(get().ends_with("\r\n\r\nok\n"));
        std::fs::write(&file, "301").unwrap();
        assert!(get().contains("Location: /login\r\n"));
        assert_eq!(service.requests(), 4);
    }
}
