# fish completion for fota: a thin shim over `fota __complete`, which answers
# from the same tables that parse the options. Each answer is a whole word,
# "cand<TAB>description", or ":files<TAB>PRE" / ":dirs<TAB>PRE" for a path
# after PRE ("--trace=", "unix:").
function __fota_complete
	set -l words (commandline -opc) (commandline -ct)
	set -l cword (math (count $words) - 1)
	set -l self $words[1]
	# fota-CMD links run CMD: ask the fota binary beside them.
	if string match -q 'fota-*' (basename $self)
		set self (dirname $self)/fota
		test (dirname $words[1]) = . ; and not string match -q './*' $words[1]; and set self fota
	end
	for line in ($self __complete words $cword -- $words 2>/dev/null)
		set -l f (string split -m 1 \t -- $line)
		switch $f[1]
			case ':files' ':dirs'
				set -l pre $f[2]
				set -l val (string sub -s (math (string length -- "$pre") + 1) -- (commandline -ct))
				if test $f[1] = ':dirs'
					__fish_complete_directories "$val" | string replace -r '^' -- "$pre"
				else
					__fish_complete_path "$val" | string replace -r '^' -- "$pre"
				end
			case '*'
				echo $line
		end
	end
end
complete -c fota -f -a '(__fota_complete)'
for c in (fota __complete commands 2>/dev/null | string replace -r '\t.*' '')
	complete -c fota-$c -f -a '(__fota_complete)'
end
