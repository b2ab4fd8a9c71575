# bash completion for okrctl. Installed as share/bash-completion/completions/okrctl; in a
# build tree: source build/cli/okrctl/okrctl.bash
_okrctl() {
  local cur prev verb noun i
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local verbs="get list create update delete propose agree reopen close carry-over checkin link unlink tree findings events watch sync help"
  local globals="--address --token --tls-ca-file --tls-cert-file --tls-key-file -o --output --help"

  case "$prev" in
    -o|--output) COMPREPLY=($(compgen -W "table json yaml" -- "$cur")); return ;;
    --tls-ca-file|--tls-cert-file|--tls-key-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --role) COMPREPLY=($(compgen -W "VIEWER EDITOR ADMIN" -- "$cur")); return ;;
    --kind) COMPREPLY=($(compgen -W "committed aspirational" -- "$cur")); return ;;
    --progress-source) COMPREPLY=($(compgen -W "key-results key-results-and-children" -- "$cur")); return ;;
    --condition) COMPREPLY=($(compgen -W "health-at-risk behind-pace low-confidence no-check-in" -- "$cur")); return ;;
    --action) COMPREPLY=($(compgen -W "emit-event call-subscription open-issue" -- "$cur")); return ;;
    --tracker) COMPREPLY=($(compgen -W "jira gitlab" -- "$cur")); return ;;
    --type) COMPREPLY=($(compgen -W "PROGRESS_CHANGED HEALTH_CHANGED THRESHOLD_CROSSED SCOPE_CHANGED STATE_CHANGED ALIGNMENT_FINDING RULE_FIRED" -- "$cur")); return ;;
  esac

  # The verb and noun are the first words that are not global flags (or their values).
  verb=""; noun=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --address|--token|--tls-ca-file|--tls-cert-file|--tls-key-file|-o|--output) ((i++)) ;;
      -*) ;;
      *) if [[ -z "$verb" ]]; then verb="${COMP_WORDS[i]}"; elif [[ -z "$noun" ]]; then noun="${COMP_WORDS[i]}"; fi ;;
    esac
  done

  if [[ -z "$verb" ]]; then
    COMPREPLY=($(compgen -W "$verbs $globals" -- "$cur"))
    return
  fi
  local nouns=""
  case "$verb" in
    get) nouns="team cycle objective keyresult checkin token subscription rule" ;;
    list) nouns="teams cycles objectives keyresults checkins links tokens subscriptions rules" ;;
    create) nouns="team cycle objective keyresult token subscription rule" ;;
    update) nouns="team cycle objective keyresult subscription rule" ;;
    delete) nouns="team cycle objective keyresult token subscription rule" ;;
  esac
  if [[ -n "$nouns" && -z "$noun" ]]; then
    COMPREPLY=($(compgen -W "$nouns" -- "$cur"))
    return
  fi
  if [[ "$cur" == -* ]]; then
    # The command's own flags, read from its --help.
    local flags
    flags=$(okrctl $verb $noun --help 2>/dev/null | grep -oE '^  --[a-z-]+' | tr -d ' ')
    COMPREPLY=($(compgen -W "$flags $globals" -- "$cur"))
    return
  fi
  if [[ "$verb" == link || "$verb" == unlink ]] && ((COMP_CWORD >= 3)); then
    COMPREPLY=($(compgen -W "jira gitlab" -- "$cur"))
  fi
}
complete -F _okrctl okrctl
