# bash completion for fota and its fota-CMD links. A thin shim: the binary
# answers from the tables that parse its options (`fota __complete`), so this
# file never needs to change when a command or option does.
#
# bash splits words at the characters of COMP_WORDBREAKS, = and : among them:
# to it, `--bus=unix:/tmp/b` is five words. The shim joins them back as they
# were typed, asks fota about the whole word, and gives readline the part of
# each answer after the last break character: the part readline replaces.
_fota()
{
	local self=${COMP_WORDS[0]} rest=${COMP_LINE:0:COMP_POINT} line w sp cur tail pre val
	local brk= cut i IFS=$'\n'
	local -a words=() found
	COMPREPLY=()
	# Called by hand, without a line: the words as they are.
	[[ -v COMP_LINE ]] || printf -v rest '%s ' "${COMP_WORDS[@]}"
	for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		sp=${rest%%[![:space:]]*}
		rest=${rest#"$sp"}
		if ((i > 0)) && [[ -z $sp ]]; then
			words[${#words[@]} - 1]+=$w
		else
			words+=("$w")
		fi
		rest=${rest#"$w"}
	done
	cur=${words[${#words[@]} - 1]}
	[[ $COMP_WORDBREAKS == *=* ]] && brk+='='
	[[ $COMP_WORDBREAKS == *:* ]] && brk+=':'
	tail=$cur
	[[ -n $brk ]] && tail=${cur##*[$brk]}
	cut=$((${#cur} - ${#tail}))
	# fota-CMD links run CMD: ask the fota binary beside them.
	case ${self##*/} in
	fota-*) [[ $self == */* ]] && self=${self%/*}/fota || self=fota ;;
	esac
	for line in $("$self" __complete words $((${#words[@]} - 1)) -- "${words[@]}" 2>/dev/null); do
		case $line in
		:files$'\t'* | :dirs$'\t'*)
			# A path follows pre ("--trace=", "unix:"): filename mode
			# marks directories with a slash and adds no space after them.
			pre=${line#*$'\t'}
			val=${cur:${#pre}}
			if [[ $line == :dirs* ]]; then
				found=($(compgen -d -- "$val"))
			else
				found=($(compgen -f -- "$val"))
			fi
			# Readline tells a directory by the word it replaces: that
			# is the path unless a break character is missing from
			# COMP_WORDBREAKS or sits in the path; then mark it here.
			if ((cut == ${#pre})); then
				compopt -o filenames 2>/dev/null
			else
				for i in "${!found[@]}"; do
					[[ -d ${found[i]} ]] && found[i]+=/
				done
				[[ ${#found[@]} -eq 1 && ${found[0]} == */ ]] && compopt -o nospace 2>/dev/null
			fi
			for w in "${found[@]}"; do
				w=$pre$w
				COMPREPLY+=("${w:cut}")
			done
			;;
		*)
			w=${line%%$'\t'*}
			COMPREPLY+=("${w:cut}")
			;;
		esac
	done
	# --opt= and unix: want their value right after them.
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=:] ]] && compopt -o nospace 2>/dev/null
	return 0
}
complete -F _fota fota
for _fota_c in $(fota __complete commands 2>/dev/null | cut -f1); do
	complete -F _fota "fota-$_fota_c"
done
unset _fota_c
