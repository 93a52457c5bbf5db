# bash completion for sigmacc (installed to share/bash-completion/completions/sigmacc)
_sigmacc() {
  local cur prev cmd
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  cmd=${COMP_WORDS[1]}
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "convert check eval dump metrics logons search test analyze pages list --help --version" -- "$cur")
    return
  fi
  case $prev in
  -t | --target)
    mapfile -t COMPREPLY < <(compgen -W "$(sigmacc list targets 2>/dev/null | awk '{print $1}' | tr -d ,)" -- "$cur")
    return
    ;;
  -p | --pipeline)
    mapfile -t COMPREPLY < <(compgen -W "$(sigmacc list pipelines 2>/dev/null | awk '{print $1}')" -f -- "$cur")
    return
    ;;
  -W | --warn)
    mapfile -t COMPREPLY < <(compgen -W "error no-error $(sigmacc list warnings 2>/dev/null | awk '{print "no-" $1}')" -- "$cur")
    return
    ;;
  -f | --format | -O | --option | --fields) return ;;
  -o | --output | --filter | -r | --rules | --config) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
  --check | --update | --regression-data) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
  esac
  local opts
  case $cmd in
  convert) opts="-t --target -p --pipeline --without-pipeline -f --format -O --option --filter -s --skip-unsupported -o --output --check --update --json-diagnostics --header -W --warn --junit --help" ;;
  check) opts="--json -W --warn --validation-config -x --exclude --fail-on --attack-data --sigmahq --sigmahq-data --sarif --junit --help" ;;
  eval) opts="-r --rules -p --pipeline --without-pipeline --filter -s --skip-unsupported --fields --stats --logsource -f --format --csv-exact --summary --min-level --status --tag --from --to -j --jobs --check --update -W --warn --include-deprecated --include-unsupported --exclude-status --exclude-tag --exclude-rules --input-order -o --output --dedup --timezone --utc --html --help" ;;
  dump) opts="-j --jobs --stats --help" ;;
  metrics) opts="-j --jobs --json --help" ;;
  logons) opts="-j --jobs --json --help" ;;
  test) opts="--regression-data -p --pipeline --junit --help" ;;
  search) opts="-e --regex -i --ignore-case --field -f --format -j --jobs --help" ;;
  analyze) opts="logsources attack fields --json --by-level -o --output -t --target -p --pipeline --without-pipeline --help" ;;
  pages) opts="-o --output --check --update --config -p --pipeline --regression-data -W --warn --help" ;;
  list) opts="targets formats pipelines modifiers diagnostics warnings validators --help" ;;
  esac
  if [[ $cur == -* || $cmd == list || ($cmd == analyze && COMP_CWORD == 2) ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -o filenames -F _sigmacc sigmacc
