# bash completion for fota and its fota-CMD links. A thin shim: the binary
# answers from the tables that parse its options (`fota __complete`), so this
# file never needs to change when a command or option does.
_fota()
{
	local cur=${COMP_WORDS[COMP_CWORD]} self=${COMP_WORDS[0]} line IFS=$'\n'
	COMPREPLY=()
	# fota-CMD links run CMD: ask the fota binary beside them.
	case ${self##*/} in
	fota-*) [[ $self == */* ]] && self=${self%/*}/fota || self=fota ;;
	esac
	for line in $("$self" __complete words "$COMP_CWORD" -- "${COMP_WORDS[@]}" 2>/dev/null); do
		case $line in
		:files) COMPREPLY+=($(compgen -f -- "$cur")) ;;
		:dirs) COMPREPLY+=($(compgen -d -- "$cur")) ;;
		*) COMPREPLY+=("${line%%	*}") ;;
		esac
	done
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
	return 0
}
complete -F _fota fota
for _fota_c in $(fota __complete commands 2>/dev/null | cut -f1); do
	complete -F _fota "fota-$_fota_c"
done
unset _fota_c
