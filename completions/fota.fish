# fish completion for fota: a thin shim over `fota __complete`, which answers
# from the same tables that parse the options.
function __fota_complete
	set -l words (commandline -opc) (commandline -ct)
	set -l cword (math (count $words) - 1)
	for line in ($words[1] __complete words $cword -- $words 2>/dev/null)
		switch $line
			case ':files'
				__fish_complete_path (commandline -ct)
			case ':dirs'
				__fish_complete_directories (commandline -ct)
			case '*'
				echo $line
		end
	end
end
complete -c fota -f -a '(__fota_complete)'
for c in (fota __complete commands 2>/dev/null | string replace -r '\t.*' '')
	complete -c fota-$c -f -a '(__fota_complete)'
end
