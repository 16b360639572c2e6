# bash completion for weft (installed as /usr/share/bash-completion/completions/weft).
# Subcommands and their options as `weft --help` and `weft COMMAND --help` list them; network
# namespaces from `ip netns list`, peers from `weft status peers` are not queried (that needs
# root and a running router).

_weft() {
  local cur prev words cword
  _init_completion || return

  local commands="launch attach detach label ps namespace policy expose hide status rmpeer connect
    forget stop reset setup-cni dns-add dns-remove dns-lookup version"
  local global="--datadir --help --version"

  # The subcommand: the first word that is not an option or an option's value.
  local i cmd=""
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      --datadir) ((i++)) ;;
      -*) ;;
      *) cmd=${words[i]}; break ;;
    esac
  done

  case $prev in
    --datadir | --conf-dir | --bin-dir | --password-file)
      _filedir -d
      [[ $prev == --password-file ]] && _filedir
      return ;;
    --plugin)
      _filedir
      return ;;
    --capture)
      COMPREPLY=($(compgen -W "tap pcap" -- "$cur"))
      return ;;
    --ipalloc-init)
      COMPREPLY=($(compgen -W "consensus= seed= observer" -- "$cur"))
      compopt -o nospace
      return ;;
    --pid)
      COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur"))
      return ;;
    --name | --nickname | --port | --http-addr | --password | --mtu | --ipalloc-range | --network | \
      --dns-listen | --dns-domain | --dns-ttl | --dns-upstream)
      return ;;
  esac

  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
    return
  fi

  local opts="--datadir --help"
  case $cmd in
    launch)
      opts+=" --name --nickname --port --http-addr --password --password-file --no-encryption
        --no-discovery --no-npc --mtu --ipalloc-range --ipalloc-init --capture --no-dns --dns-listen
        --dns-domain --dns-ttl --dns-upstream" ;;
    attach) opts+=" --name --pid" ;;
    detach) opts+=" --pid" ;;
    ps) opts+=" --json" ;;
    status)
      if [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "peers connections targets ipam npc" -- "$cur"))
        return
      fi
      opts+=" --json" ;;
    connect) opts+=" --replace" ;;
    setup-cni) opts+=" --conf-dir --bin-dir --plugin --network" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ $cmd == attach || $cmd == detach ]]; then
    COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | cut -d' ' -f1)" -- "$cur"))
  fi
}
complete -F _weft weft
