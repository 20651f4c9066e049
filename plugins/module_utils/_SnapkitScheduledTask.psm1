# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to snapkit.cloud. One-shot scheduled tasks that run a PowerShell script as SYSTEM, started at once.
#
# Why: a process started from a module dies with the WinRM shell (or PSRP runspace) that started it, and an action
# that cuts the connection (Sysprep's shutdown, a new address on the adapter of the session) would also cut the
# module's answer. A scheduled task runs outside the shell; the script it runs sleeps first, so the module returns
# and its result reaches the controller before the action. The script file lives under %ProgramData%\snapkit.cloud
# (readable and writable by administrators and SYSTEM only) and the script removes itself and its task.

Function Get-SnapkitTaskDirectory {
    <# The folder of the task scripts and their result files, created when missing. #>
    $directory = Join-Path -Path $env:ProgramData -ChildPath 'snapkit.cloud'
    if (-not (Test-Path -LiteralPath $directory)) {
        $null = New-Item -Path $directory -ItemType Directory -Force
    }
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
