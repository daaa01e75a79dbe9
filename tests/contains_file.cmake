# cmake -DPAGE=page.md -DEXAMPLE=file -P contains_file.cmake
# Fails unless PAGE shows EXAMPLE's text unchanged.
file(READ ${PAGE} page)
file(READ ${EXAMPLE} example)
string(STRIP "${example}" example)
string(FIND "${page}" "${example}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "${PAGE} does not show ${EXAMPLE} as it is: update the page")
endif()
