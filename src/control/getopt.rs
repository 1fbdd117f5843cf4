//! GNU `getopt(3)` as `cl_status` uses it: called on the arguments after
//! the program name, so the sub-command plays `argv[0]` (and names itself
//! in error messages); options are permuted, so they may follow the
//! positional arguments; `--` ends the options.

/// One option character the parser returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    /// A known option, with its argument if it takes one.
    Flag(char, Option<String>),
    /// `?`: unknown option or missing argument (the message is in `errors`).
    Unknown,
}

/// The result of a full getopt loop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Options in order.
    pub opts: Vec<Opt>,
    /// Error messages getopt printed, one per `Unknown`, in order.
    pub errors: Vec<String>,
    /// The non-option arguments after permutation (argv[optind..]).
    pub positionals: Vec<String>,
}

/// Parses `args` (`args[0]` is the sub-command) with `optstring`.
pub fn getopt(args: &[String], optstring: &str) -> Parsed {
    let prog = args.first().map(String::as_str).unwrap_or("");
    let mut parsed = Parsed::default();
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        if arg == "--" {
            parsed.positionals.extend(rest.by_ref().cloned());
            break;
        }
        if arg.len() < 2 || !arg.starts_with('-') {
            parsed.positionals.push(arg.clone());
            continue;
        }
        let chars: Vec<char> = arg.chars().skip(1).collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            let spec = optstring.find(c).filter(|_| c != ':');
            let Some(pos) = spec else {
                parsed
                    .errors
                    .push(format!("{prog}: invalid option -- '{c}'"));
                parsed.opts.push(Opt::Unknown);
                continue;
            };
            let takes_arg = optstring
                .get(pos + c.len_utf8()..)
                .is_some_and(|s| s.starts_with(':'));
            if !takes_arg {
                parsed.opts.push(Opt::Flag(c, None));
                continue;
            }
            let attached: String = chars.get(i..).unwrap_or_default().iter().collect();
            if !attached.is_empty() {
                parsed.opts.push(Opt::Flag(c, Some(attached)));
            } else if let Some(next) = rest.next() {
                parsed.opts.push(Opt::Flag(c, Some(next.clone())));
            } else {
                parsed
                    .errors
                    .push(format!("{prog}: option requires an argument -- '{c}'"));
                parsed.opts.push(Opt::Unknown);
            }
            break;
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn permutes_options_after_positionals() {
        let p = getopt(&args(&["nodestatus", "bravo", "-m"]), "m");
        assert_eq!(p.opts, vec![Opt::Flag('m', None)]);
        assert_eq!(p.positionals, args(&["bravo"]));
        assert!(p.errors.is_empty());
    }

    #[test]
    fn clusters_arguments_and_double_dash() {
        let p = getopt(&args(&["hbparameter", "-mpdeadtime", "--", "-v"]), "mp:");
        assert_eq!(
            p.opts,
            vec![
                Opt::Flag('m', None),
                Opt::Flag('p', Some("deadtime".into()))
            ]
        );
        assert_eq!(p.positionals, args(&["-v"]));
        let p = getopt(&args(&["hbparameter", "-p", "keepalive"]), "mp:");
        assert_eq!(p.opts, vec![Opt::Flag('p', Some("keepalive".into()))]);
        assert!(p.positionals.is_empty());
    }

    #[test]
    fn errors_like_glibc() {
        let p = getopt(&args(&["listnodes", "-x"]), "mpnv");
        assert_eq!(p.opts, vec![Opt::Unknown]);
        assert_eq!(
            p.errors,
            vec!["listnodes: invalid option -- 'x'".to_string()]
        );
        let p = getopt(&args(&["hbparameter", "-p"]), "mp:");
        assert_eq!(
            p.errors,
            vec!["hbparameter: option requires an argument -- 'p'".to_string()]
        );
        let p = getopt(&args(&["x", "-", "-:"]), "m");
        assert_eq!(p.positionals, args(&["-"]));
        assert_eq!(p.opts, vec![Opt::Unknown]);
    }
}
