# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to snapkit.cloud. One-shot scheduled tasks that run a PowerShell script as SYSTEM, started at once.
#
# Why: a process started from a module dies with the WinRM shell (or PSRP runspace) that started it, and an action
# that cuts the connection (Sysprep's shutdown, a new address on the adapter of the session) would also cut the
# module's answer. A scheduled task runs outside the shell; the script it runs sleeps first, so the module returns
# and its result reaches the controller before the action.
#
# The script SYSTEM runs lives in %ProgramData%\snapkit.cloud. %ProgramData% lets every local user create folders
# and own them, so a user could pre-create that folder (or plant a junction) and swap the script: the folder is
# created with a protected ACL (owner Administrators; full control for SYSTEM and Administrators only, nothing
# inherited), and an existing folder is used only when its owner and ACL are exactly that, else the module refuses.

# Well-known SIDs: LocalSystem and BUILTIN\Administrators (names differ by language, SIDs do not).
$script:SnapkitTrustedSids = @('S-1-5-18', 'S-1-5-32-544')

Function Get-SnapkitTaskDirectoryPath {
    <# Where the task scripts and their result and log files are. #>
    Join-Path -Path $env:ProgramData -ChildPath 'snapkit.cloud'
}

Function Get-SnapkitTaskDirectoryProblem {
    <#
    Why the task folder cannot be trusted, or $null when it can (or does not exist yet): not a plain folder (a file,
    a junction or symbolic link), an owner other than SYSTEM or Administrators, inherited rules, or a rule that
    allows anyone else anything. Reads only.
    #>
    $directory = Get-SnapkitTaskDirectoryPath
    $item = Get-Item -LiteralPath $directory -Force -ErrorAction SilentlyContinue
    if ($null -eq $item) {
        return $null
    }
    if (-not $item.PSIsContainer) {
        return "$directory is a file, not a folder"
    }
    if ($item.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
        return "$directory is a junction or symbolic link"
    }
    $acl = Get-Acl -LiteralPath $directory
    $sidType = [System.Security.Principal.SecurityIdentifier]
    $owner = $acl.GetOwner($sidType).Value
    if ($script:SnapkitTrustedSids -notcontains $owner) {
        return "$directory is owned by $owner, not by SYSTEM or Administrators"
    }
    if (-not $acl.AreAccessRulesProtected) {
        return "$directory inherits permissions from $env:ProgramData"
    }
    $others = @($acl.GetAccessRules($true, $true, $sidType) | Where-Object {
            ([string]$_.AccessControlType -eq 'Allow') -and ($script:SnapkitTrustedSids -notcontains $_.IdentityReference.Value)
        } | ForEach-Object { $_.IdentityReference.Value } | Sort-Object -Unique)
    if ($others.Count -gt 0) {
        return "$directory grants access to $($others -join ', ') besides SYSTEM and Administrators"
    }
    $null
}

Function Assert-SnapkitTaskDirectory {
    <# Throws, before anything is changed, when the task folder exists and cannot be trusted. #>
    $problem = Get-SnapkitTaskDirectoryProblem
    if ($null -ne $problem) {
        throw ("Refusing to run a SYSTEM task from it: $problem. Another user may have created it to swap the script " +
            "SYSTEM runs; delete the folder (or give it owner Administrators and a protected ACL with SYSTEM and " +
            "Administrators only) and run again.")
    }
}

Function Get-SnapkitTaskDirectory {
    <#
    The folder of the task scripts and their result files: created with a protected ACL when missing, then checked
    (also right after creating it: another user may have won the race); throws when it cannot be trusted.
    #>
    $directory = Get-SnapkitTaskDirectoryPath
    if (-not (Test-Path -LiteralPath $directory)) {
        $security = New-Object -TypeName System.Security.AccessControl.DirectorySecurity
        $administrators = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList 'S-1-5-32-544'
        $security.SetOwner($administrators)
        $security.SetAccessRuleProtection($true, $false)
        foreach ($sid in $script:SnapkitTrustedSids) {
            $identity = New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sid
            $rule = New-Object -TypeName System.Security.AccessControl.FileSystemAccessRule -ArgumentList @(
                $identity, 'FullControl', 'ContainerInherit, ObjectInherit', 'None', 'Allow')
            $security.AddAccessRule($rule)
        }
        $null = [System.IO.Directory]::CreateDirectory($directory, $security)
    }
    Assert-SnapkitTaskDirectory
    $directory
}

Function Test-SnapkitTaskRunning {
    <# Whether the task exists and is running (an earlier run still in its delay, or in its action). #>
    param([Parameter(Mandatory = $true)][string]$TaskName)
    $task = Get-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    ($null -ne $task) -and ([string]$task.State -eq 'Running')
}

Function Start-SnapkitSystemTask {
    <#
    Writes the Script pieces, one after the other, to <task folder>\<TaskName>.ps1, registers TaskName (no trigger, SYSTEM, highest rights) to run it
    with powershell.exe -File and ArgumentList, and starts it. Returns the script path.
    Script receives the arguments as named parameters (it declares TaskName) and includes Get-SnapkitTaskCleanupScript.
    #>
    param(
        [Parameter(Mandatory = $true)][string]$TaskName,
        [Parameter(Mandatory = $true)][string[]]$Script,
        [string[]]$ArgumentList = @()
    )
    $scriptPath = Join-Path -Path (Get-SnapkitTaskDirectory) -ChildPath ($TaskName + '.ps1')
    # A new file inherits the folder's protected ACL; an older one (a link, or written before the folder was
    # fixed) is not reused.
    Remove-Item -LiteralPath $scriptPath -Force -ErrorAction SilentlyContinue
    # UTF-8 with BOM: Windows PowerShell 5.1 reads a BOM-less script as the ANSI code page.
    [System.IO.File]::WriteAllText($scriptPath, ($Script -join "`r`n"), (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true))

    $quoted = foreach ($argument in $ArgumentList) { '"' + ($argument -replace '"', '\"') + '"' }
    $commandLine = '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{0}" {1}' -f $scriptPath, ($quoted -join ' ')
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument $commandLine
    $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    $settings = New-ScheduledTaskSettingsSet -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 2)
    $null = Register-ScheduledTask -TaskName $TaskName -Action $action -Principal $principal -Settings $settings -Force
    Start-ScheduledTask -TaskName $TaskName
    $scriptPath
}

Function Get-SnapkitTaskCleanupScript {
    <# The lines a task script runs to remove its own task and file (it keeps running: PowerShell has read it). #>
    @'
Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
Remove-Item -LiteralPath $PSCommandPath -Force -ErrorAction SilentlyContinue
'@
}
